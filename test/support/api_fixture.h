#pragma once

// A real Api in the test process on 127.0.0.1, port 0 (the kernel picks a
// free one), over the SQLite store in a temp dir, with a manual clock and the
// token kToken, and an lb_client Client to talk to it. The test links
// lb_api, lb_client and lb_fakes (this header uses them).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/api.h"
#include "client/client.h"
#include "fakes/manual_clock.h"
#include "lastbackend/storage/storage.h"
#include "support/manifests.h"
#include "support/process.h"

namespace lb::testing {

inline constexpr char kToken[] = "integration-token";

using Json = nlohmann::json;

class ApiFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = makeTempDir("lb-api-test-");
    ASSERT_NE(dir_, "");
    storage::Options so;
    so.driver = "sqlite";
    so.sqlitePath = dir_ + "/lastbackend.db";
    auto store = storage::open(so);
    ASSERT_TRUE(store.isOk()) << store.status().toString();
    store_ = std::shared_ptr<storage::Storage>(std::move(*store));

    config::ApiConfig cfg;
    cfg.token = kToken;
    cfg.name = "test-cluster";
    cfg.description = "integration";
    cfg.domainInternal = "lb.local";
    cfg.domainExternal = "example.test";
    cfg.server.host = "127.0.0.1";
    cfg.server.port = 0;
    api::ApiOptions ao;
    ao.clock = &clock_;
    ao.drain = std::chrono::milliseconds(2000);
    auto api = api::Api::create(cfg, store_, ao);
    ASSERT_TRUE(api.isOk()) << api.status().toString();
    api_ = std::move(*api);
    ASSERT_TRUE(api_->start().isOk());
    client_ = makeClient(kToken);
  }

  void TearDown() override {
    client_.reset();
    if (api_) api_->stop();
    api_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(api_->port()); }

  std::unique_ptr<client::Client> makeClient(const std::string& token) {
    client::ClientOptions o;
    o.endpoint = url();
    o.token = token;
    o.maxRetries = 0;
    o.requestTimeout = std::chrono::seconds(20);
    auto c = client::Client::create(o);
    EXPECT_TRUE(c.isOk()) << c.status().toString();
    return std::move(*c);
  }

  client::HttpResponse send(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            const std::string& contentType = "application/json") {
    auto r = client_->send(method, path, {}, body, contentType);
    EXPECT_TRUE(r.isOk()) << method << " " << path << ": " << r.status().toString();
    return r.isOk() ? *r : client::HttpResponse{};
  }

  // The body as JSON (null when it is not JSON).
  static Json json(const client::HttpResponse& r) {
    return Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  }

  Json getJson(const std::string& path) {
    auto r = send("GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json(r);
  }

  void createNamespace(const std::string& name) {
    auto r = send("POST", "/namespace", Json{{"name", name}}.dump());
    ASSERT_EQ(r.status, 201) << r.body;
  }

  client::HttpResponse apply(const std::string& ns, const std::string& text,
                             const std::string& contentType = "application/yaml") {
    return send("PUT", "/namespace/" + ns + "/apply", text, contentType);
  }

  // Every key, value and revision in the store, plus the store revision.
  std::string storeSnapshot() {
    auto l = store_->list("/");
    EXPECT_TRUE(l.isOk());
    std::string out = "revision " + std::to_string(l->revision) + "\n";
    for (const auto& o : l->items)
      out += o.key + " @" + std::to_string(o.revision) + " " + o.value + "\n";
    return out;
  }

  // Writes a raw object as the controller would.
  void seed(const std::string& key, const std::string& value) {
    auto r = store_->put(key, value);
    ASSERT_TRUE(r.isOk()) << key << ": " << r.status().toString();
  }

  std::string dir_;
  ManualClock clock_;
  std::shared_ptr<storage::Storage> store_;
  std::unique_ptr<api::Api> api_;
  std::unique_ptr<client::Client> client_;
};

inline Json serviceManifest(const std::string& name, int replicas = 1,
                            const std::string& image = "nginx") {
  return Json{
      {"kind", "Service"},
      {"version", "v1"},
      {"meta", {{"name", name}}},
      {"spec",
       {{"replicas", replicas},
        {"template",
         {{"containers", Json::array({{{"name", "main"}, {"image", {{"name", image}}}}})}}}}}};
}

}  // namespace lb::testing
