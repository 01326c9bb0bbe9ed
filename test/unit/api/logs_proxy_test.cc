// The logs proxy (`lb service logs -f`) on quiet containers: nothing ever
// arrives from the node, yet a client that leaves frees its proxied stream
// at once, and stopping the api ends every open one.

#include <gtest/gtest.h>

#include <future>

#include "support/api_fixture.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/types/codec.h"
#include "unit/http/test_server.h"

namespace lb::api {
namespace {

namespace keys = storage::keys;
using http::testing::eventually;
using http::testing::RawConn;
using http::testing::statusOf;

class LogsProxyTest : public testing::ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    http::ServerOptions so;
    so.address = "127.0.0.1";
    so.port = 0;
    so.token = testing::kToken;
    auto node = http::Server::create(so);
    ASSERT_TRUE(node.isOk());
    node_ = std::move(*node);
    // A node agent following a container that prints nothing.
    ASSERT_TRUE(node_->router().get("/pod/{pod}/logs", [this](const http::Request&) {
      return http::Response::streaming([this](http::StreamWriter& w) {
        ++open_;
        std::promise<void> cancelled;
        uint64_t id = w.onCancel([&cancelled] { cancelled.set_value(); });
        cancelled.get_future().wait();
        w.removeOnCancel(id);
        ++ended_;
      });
    }).isOk());
    ASSERT_TRUE(node_->start().isOk());
    types::Node n;
    n.meta.name = "n1";
    n.info.hostname = "n1";
    n.info.internalIp = "127.0.0.1";
    n.info.labels["lastbackend.node.port"] = std::to_string(node_->port());
    seed(*keys::nodeKey("n1", keys::Part::kInfo), types::toJson(n));
    seed("/namespace/demo", R"({"meta":{"name":"demo","selflink":"demo"}})");
    seed("/service/demo:web", R"({"meta":{"name":"web","namespace":"demo","selflink":"demo:web"}})");
    types::Pod p;
    p.meta.name = "p1";
    p.meta.namespace_ = "demo";
    p.meta.selflink = "demo:web:d:p1";
    p.status.node = "n1";
    seed(*keys::objectKey(keys::Collection::kPod, p.meta.selflink), types::toJson(p));
  }
  void TearDown() override {
    ApiFixture::TearDown();
    if (node_) node_->stop(std::chrono::seconds(2));
  }
  std::unique_ptr<RawConn> follow() {
    auto c = std::make_unique<RawConn>(api_->port());
    c->send(std::string("GET /namespace/demo/service/web/logs?follow=true HTTP/1.1\r\nHost: t\r\n"
                        "Authorization: Bearer ") + testing::kToken + "\r\n\r\n");
    EXPECT_EQ(statusOf(c->readResponse()), 200);
    return c;
  }

  std::unique_ptr<http::Server> node_;
  std::atomic<int> open_{0};
  std::atomic<int> ended_{0};
};

TEST_F(LogsProxyTest, AClientThatLeavesFreesItsProxiedStream) {
  auto c = follow();
  ASSERT_TRUE(eventually([&] { return open_ == 1; }));
  c.reset();
  EXPECT_TRUE(eventually([&] { return ended_ == 1; })) << "the proxy still holds the node's stream";
}

TEST_F(LogsProxyTest, StoppingTheApiEndsOpenProxiedStreams) {
  auto a = follow();
  auto b = follow();
  auto c = follow();
  ASSERT_TRUE(eventually([&] { return open_ == 3; }));
  auto started = std::chrono::steady_clock::now();
  api_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(eventually([&] { return ended_ == 3; }));
}

}  // namespace
}  // namespace lb::api
