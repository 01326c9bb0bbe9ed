// How the API behaves when the store fails or writers race: compare-and-swap
// losers are retried a bounded number of times, store outages are 503, and
// /health does not depend on the store.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "client/client.h"
#include "fakes/storage/faulty_storage.h"

namespace lb::api {
namespace {

using storage::testing::FaultyStorage;
using Method = FaultyStorage::Method;

const char kService[] =
    "kind: Service\nversion: v1\nmeta:\n  name: web\nspec:\n  template:\n    containers:\n"
    "    - name: c\n      image:\n        name: nginx\n";

class FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options o;
    o.driver = "mock";
    auto inner = storage::open(o);
    ASSERT_TRUE(inner.isOk());
    auto faulty = std::make_shared<FaultyStorage>(std::move(*inner));
    store_ = faulty.get();
    config::ApiConfig cfg;
    cfg.token = "t";
    cfg.server.host = "127.0.0.1";
    auto api = Api::create(cfg, faulty);
    ASSERT_TRUE(api.isOk()) << api.status().toString();
    api_ = std::move(*api);
    ASSERT_TRUE(api_->start().isOk());
    client::ClientOptions co;
    co.endpoint = "http://127.0.0.1:" + std::to_string(api_->port());
    co.token = "t";
    co.maxRetries = 0;
    auto c = client::Client::create(co);
    ASSERT_TRUE(c.isOk());
    client_ = std::move(c).value();
    ASSERT_EQ(send("POST", "/namespace", R"({"name":"demo"})").status, 201);
  }

  client::HttpResponse send(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            const std::string& type = "application/json") {
    auto r = client_->send(method, path, {}, body, type);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : client::HttpResponse{};
  }

  int64_t revision() { return store_->inner().info()->revision; }

  FaultyStorage* store_ = nullptr;
  std::unique_ptr<Api> api_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(FaultsTest, ApplyRetriesLostRaces) {
  store_->failNext(Method::kTxn, conflict("injected race"), 2);
  int before = store_->calls(Method::kTxn);
  auto r = send("PUT", "/namespace/demo/apply", kService, "application/yaml");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(store_->calls(Method::kTxn) - before, 3);
  EXPECT_NE(r.body.find("created"), std::string::npos);
}

TEST_F(FaultsTest, PersistentRacesEndIn409AndWriteNothing) {
  store_->failNext(Method::kTxn, alreadyExists("injected race"), 100);
  int64_t rev = revision();
  auto r = send("PUT", "/namespace/demo/apply", kService, "application/yaml");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("concurrently"), std::string::npos) << r.body;
  r = send("DELETE", "/namespace/demo");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(revision(), rev);
}

TEST_F(FaultsTest, StoreOutageIs503ButHealthAnswers) {
  store_->failNext(Method::kGet, unavailable("store down"), 100);
  store_->failNext(Method::kList, unavailable("store down"), 100);
  EXPECT_EQ(send("GET", "/namespace/demo").status, 503);
  EXPECT_EQ(send("GET", "/namespace").status, 503);
  EXPECT_EQ(send("PUT", "/namespace/demo/apply", kService, "application/yaml").status, 503);
  EXPECT_EQ(send("GET", "/health").status, 200);
  auto metrics = send("GET", "/metrics");
  EXPECT_NE(metrics.body.find(R"(lb_storage_operations_total{op="get",result="Unavailable"})"),
            std::string::npos);
}

TEST_F(FaultsTest, CorruptStoredObjectIs500NotACrash) {
  ASSERT_TRUE(store_->inner().put("/service/demo:bad", "{not json").isOk());
  auto r = send("GET", "/namespace/demo/service/bad");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(send("GET", "/namespace/demo/service").status, 500);
  EXPECT_EQ(send("GET", "/health").status, 200);
}

}  // namespace
}  // namespace lb::api
