// The node's own HTTP server (src/node/node_server.cc) on 127.0.0.1:<free
// port>, in front of an agent on the runtime fakes: the token is required,
// logs stream a container's output, and logs of a pod (or container) the
// node does not have are a 404 with a clear error, not an empty 200.

#include "node/node_server.h"

#include <gtest/gtest.h>

#include "agent_fixture.h"
#include "client/client.h"
#include "http/server.h"

namespace lb::node {
namespace {

using namespace lb::node::testing;

constexpr const char* kToken = "node-secret";

class NodeServerTest : public AgentFixture {
 protected:
  void SetUp() override {
    agent_ = makeAgent();
    ASSERT_TRUE(agent_->start().isOk());
    http::ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.token = kToken;
    auto s = NodeServer::create(o, agent_.get());
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    server_ = std::move(*s);
    ASSERT_TRUE(server_->start().isOk());
    ASSERT_GT(server_->port(), 0);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (agent_) agent_->stop();
  }
  std::unique_ptr<client::Client> client(const std::string& token) {
    client::ClientOptions co;
    co.endpoint = "http://127.0.0.1:" + std::to_string(server_->port());
    co.token = token;
    co.maxRetries = 0;
    auto c = client::Client::create(co);
    EXPECT_TRUE(c.isOk()) << c.status().toString();
    return std::move(*c);
  }
  client::HttpResponse get(const std::string& path, const std::string& token = kToken) {
    auto r = client(token)->send("GET", path);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : client::HttpResponse{};
  }

  std::unique_ptr<Agent> agent_;
  std::unique_ptr<NodeServer> server_;
};

TEST_F(NodeServerTest, RefusesRequestsWithoutTheToken) {
  EXPECT_EQ(get("/pod", "").status, 401);
  EXPECT_EQ(get("/pod", "wrong").status, 401);
  EXPECT_EQ(get("/pod/demo:web:d1:p1/logs", "").status, 401);
  EXPECT_EQ(get("/health", "").status, 200);  // public
  EXPECT_EQ(get("/pod").status, 200);
}

TEST_F(NodeServerTest, LogsOfAMissingPodAreNotFound) {
  auto r = get("/pod/" + http::percentEncode("demo:web:d1:nope") + "/logs");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("pod 'demo:web:d1:nope' has no container"), std::string::npos) << r.body;
}

TEST_F(NodeServerTest, LogsStreamTheContainerAndAMissingContainerIsNotFound) {
  auto p = pod("p1");
  agent_->applyManifest(manifest({p}));
  ASSERT_TRUE(settle([&] { return ready(*agent_, p.meta.selflink); }));
  auto id = agent_->containerId(p.meta.selflink, "c0");
  ASSERT_TRUE(id.isOk());
  cri_.writeLog(*id, runtime::cri::LogStream::kStdout, "hello from c0\n");
  const std::string base = "/pod/" + http::percentEncode(p.meta.selflink) + "/logs";
  auto r = get(base + "?container=c0");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("hello from c0"), std::string::npos) << r.body;
  auto missing = get(base + "?container=nope");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_NE(missing.body.find("has no container 'nope'"), std::string::npos) << missing.body;
  // A container the runtime lost since the agent listed it: still a 404.
  cri_.errors().fail("inspect", notFound("No such container"), 1);
  auto gone = get(base + "?container=c0");
  EXPECT_EQ(gone.status, 404) << gone.body;
}

}  // namespace
}  // namespace lb::node
