// The docker client and drivers against a scripted server on a unix socket:
// negotiation, chunked bodies split anywhere, log frames across chunks,
// cancellation, timeouts, unreachable sockets, the registry auth header.

#include "runtime/docker/client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/cii/docker/docker_cii.h"
#include "runtime/cri/docker/docker_cri.h"
#include "unit/runtime/fake_docker_server.h"

namespace lb::runtime::docker {
namespace {

using lb::test::FakeDockerServer;
using lb::test::logFrame;
using Socket = FakeDockerServer::Socket;

constexpr const char* kVersion =
    R"({"Version":"99.0","ApiVersion":"1.43","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"})";

// Blocks until the client goes away.
void hang(Socket& s) {
  char c;
  boost::system::error_code ec;
  while (!ec) s.read_some(boost::asio::buffer(&c, 1), ec);
}

std::shared_ptr<Client> connectTo(const FakeDockerServer& server, std::string pinned = "",
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  Client::Options o;
  o.socketPath = server.path();
  o.apiVersion = std::move(pinned);
  o.timeout = timeout;
  auto c = Client::connect(o);
  EXPECT_TRUE(c.isOk()) << c.status().message();
  return c ? *c : nullptr;
}

TEST(DockerClientTest, NegotiatesAndPrefixesTheVersion) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    if (req.target() == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    FakeDockerServer::respond(s, 200, "[]");
  });
  auto c = connectTo(server);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->apiVersion(), "1.41");
  ASSERT_TRUE(c->call({Method::kGet, "/containers/json"}).isOk());
  EXPECT_EQ(server.targets().back(), "/v1.41/containers/json");

  auto pinned = connectTo(server, "1.40");
  EXPECT_EQ(pinned->apiVersion(), "1.40");
}

TEST(DockerClientTest, OldDaemonIsRefused) {
  FakeDockerServer server([](const auto&, Socket& s) {
    FakeDockerServer::respond(s, 200, R"({"ApiVersion":"1.19"})");
  });
  Client::Options o;
  o.socketPath = server.path();
  auto c = Client::connect(o);
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  EXPECT_NE(c.status().message().find("1.19"), std::string::npos);
}

TEST(DockerClientTest, MissingSocketIsUnavailableAndNamesThePath) {
  Client::Options o;
  o.socketPath = "/nonexistent/lb/docker.sock";
  auto c = Client::connect(o);
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  EXPECT_NE(c.status().message().find("unix:///nonexistent/lb/docker.sock"), std::string::npos)
      << c.status().message();
}

TEST(DockerClientTest, SilentDaemonTimesOut) {
  FakeDockerServer server([](const auto&, Socket& s) { hang(s); });
  Client::Options o;
  o.socketPath = server.path();
  o.timeout = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto c = Client::connect(o);
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), Code::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(DockerClientTest, StreamsAChunkedBodyPieceByPiece) {
  std::string payload;
  for (int i = 0; i < 500; ++i) payload += "line " + std::to_string(i) + "\n";
  FakeDockerServer server([&](const auto& req, Socket& s) {
    if (req.target() == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    FakeDockerServer::beginChunked(s);
    // Odd chunk sizes, written one by one.
    for (size_t i = 0, n = 1; i < payload.size(); i += n, n = n % 97 + 1) {
      FakeDockerServer::chunk(s, payload.substr(i, n));
    }
    FakeDockerServer::endChunked(s);
  });
  auto c = connectTo(server);
  std::string got;
  int pieces = 0;
  auto r = c->stream(
      {Method::kGet, "/x"},
      [&](std::string_view p) {
        got.append(p);
        ++pieces;
        return true;
      },
      nullptr);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(got, payload);
  EXPECT_GT(pieces, 1);

  auto whole = c->call({Method::kGet, "/x"});
  ASSERT_TRUE(whole.isOk());
  EXPECT_EQ(whole->body, payload);
}

TEST(DockerClientTest, ErrorBodyOfAStreamIsReturnedNotStreamed) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    if (req.target() == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    FakeDockerServer::respond(s, 404, R"({"message":"No such container: x"})");
  });
  auto c = connectTo(server);
  bool called = false;
  auto r = c->stream(
      {Method::kGet, "/containers/x/logs"}, [&](std::string_view) { return called = true; },
      nullptr);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(called);
  EXPECT_NE(r->body.find("No such container"), std::string::npos);
}

TEST(DockerClientTest, CancelEndsAStreamThatNeverEnds) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    if (req.target() == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    FakeDockerServer::beginChunked(s);
    FakeDockerServer::chunk(s, "first\n");
    hang(s);
  });
  auto c = connectTo(server, "", std::chrono::milliseconds(300));
  CancelToken cancel;
  std::string got;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // past the call timeout
    cancel.cancel();
  });
  auto r = c->stream(
      {Method::kGet, "/events"},
      [&](std::string_view p) {
        got.append(p);
        return true;
      },
      &cancel);
  canceller.join();
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(got, "first\n");
}

TEST(DockerClientTest, CancelledBeforeTheCallReturnsAtOnce) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    if (req.target() == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    hang(s);
  });
  auto c = connectTo(server);
  CancelToken cancel;
  cancel.cancel();
  auto r = c->stream(
      {Method::kGet, "/events"}, [](std::string_view) { return true; }, &cancel);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->status, 0);
}

TEST(DockerCriTest, LogsDemuxFramesSplitAcrossChunks) {
  std::string body = logFrame(1, "out 1\n") + logFrame(2, "err 1\n") + logFrame(1, "out 2\n");
  FakeDockerServer server([&](const auto& req, Socket& s) {
    std::string t(req.target());
    if (t == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    if (t.ends_with("/json")) {
      return FakeDockerServer::respond(s, 200, R"({"Id":"abc","Config":{"Tty":false}})");
    }
    FakeDockerServer::beginChunked(s);
    for (size_t i = 0; i < body.size(); i += 5) FakeDockerServer::chunk(s, body.substr(i, 5));
    FakeDockerServer::endChunked(s);
  });
  auto cri = cri::docker::fromClient(connectTo(server));
  std::string out, err;
  cri::LogOptions opts;
  opts.tail = 10;
  Status s = cri->logs("abc", opts, [&](const cri::LogChunk& c) {
    (c.stream == cri::LogStream::kStderr ? err : out) += c.data;
    return true;
  });
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(out, "out 1\nout 2\n");
  EXPECT_EQ(err, "err 1\n");
  EXPECT_NE(server.targets().back().find("tail=10"), std::string::npos);
}

// Exec: create, start attached (a close-delimited raw stream, as dockerd
// sends it after hijacking the connection), then the exit code from the
// exec's inspect.
TEST(DockerCriTest, ExecReadsTheOutputAndTheExitCode) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    std::string t(req.target());
    if (t == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    if (t.ends_with("/containers/abc/exec"))
      return FakeDockerServer::respond(s, 201, R"({"Id":"e1"})");
    if (t.ends_with("/exec/e1/start")) {
      FakeDockerServer::write(
          s, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
      std::string body = logFrame(1, "not ") + logFrame(2, "ready\nmore\n");
      for (size_t i = 0; i < body.size(); i += 3) FakeDockerServer::write(s, body.substr(i, 3));
      return;  // the connection closes: the process ended
    }
    if (t.ends_with("/exec/e1/json"))
      return FakeDockerServer::respond(s, 200, R"({"ID":"e1","Running":false,"ExitCode":3})");
    FakeDockerServer::respond(s, 404, R"({"message":"unexpected"})");
  });
  auto cri = cri::docker::fromClient(connectTo(server));
  cri::ExecOptions eo;
  eo.command = {"cat", "/tmp/ready"};
  eo.timeout = std::chrono::seconds(5);
  auto r = cri->exec("abc", eo);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->exitCode, 3);
  EXPECT_EQ(r->output, "not ready\nmore\n");
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 4u);
  auto create = nlohmann::json::parse(reqs[1].body());
  EXPECT_EQ(create["Cmd"], nlohmann::json::array({"cat", "/tmp/ready"}));
  EXPECT_EQ(create["AttachStdout"], true);
  EXPECT_EQ(nlohmann::json::parse(reqs[2].body())["Detach"], false);

  eo.maxOutput = 4;
  r = cri->exec("abc", eo);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->output, "not ");
  eo.command.clear();
  EXPECT_EQ(cri->exec("abc", eo).status().code(), Code::kInvalidArgument);
}

TEST(DockerCriTest, ExecOverItsTimeoutIsDeadlineExceeded) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    std::string t(req.target());
    if (t == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    if (t.ends_with("/exec")) return FakeDockerServer::respond(s, 201, R"({"Id":"e2"})");
    if (t.ends_with("/start")) {
      FakeDockerServer::write(
          s, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
      FakeDockerServer::write(s, logFrame(1, "working\n"));
      return hang(s);  // a command that never ends
    }
    FakeDockerServer::respond(s, 409, R"({"message":"Container abc is not running"})");
  });
  auto cri = cri::docker::fromClient(connectTo(server));
  cri::ExecOptions eo;
  eo.command = {"sleep", "1000"};
  eo.timeout = std::chrono::milliseconds(200);
  auto r = cri->exec("abc", eo);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << r.status().message();
  EXPECT_NE(r.status().message().find("exec in container 'abc'"), std::string::npos);
}

TEST(DockerCriTest, ExecInAStoppedContainerIsConflict) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    if (req.target() == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    FakeDockerServer::respond(s, 409, R"({"message":"Container abc is not running"})");
  });
  auto cri = cri::docker::fromClient(connectTo(server));
  cri::ExecOptions eo;
  eo.command = {"true"};
  auto r = cri->exec("abc", eo);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_EQ(r.status().message(),
            "docker: exec in container 'abc': 409 Container abc is not running");
}

TEST(DockerCriTest, ErrorsCarryContext) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    if (req.target() == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    FakeDockerServer::respond(s, 404, R"({"message":"No such image: lb/nope:1"})");
  });
  auto cri = cri::docker::fromClient(connectTo(server));
  cri::ContainerSpec spec;
  spec.name = "x";
  spec.image = "lb/nope:1";
  auto id = cri->create(spec);
  ASSERT_FALSE(id.isOk());
  EXPECT_EQ(id.status().code(), Code::kNotFound);
  EXPECT_EQ(id.status().message(), "docker: create container 'x': 404 No such image: lb/nope:1");
}

TEST(DockerCiiTest, PullSendsAuthAndFailsOnAStreamedError) {
  FakeDockerServer server([](const auto& req, Socket& s) {
    if (req.target() == "/version") return FakeDockerServer::respond(s, 200, kVersion);
    FakeDockerServer::beginChunked(s);
    FakeDockerServer::chunk(s, "{\"status\":\"Pulling from team/app\",\"id\":\"1\"}\r\n{\"err");
    FakeDockerServer::chunk(
        s, "or\":\"Get \\\"https://r/v2/\\\": dial tcp: connection refused\"}\r\n");
    FakeDockerServer::endChunked(s);
  });
  auto cii = cii::docker::fromClient(connectTo(server));
  std::vector<std::string> progress;
  cii::RegistryAuth auth{"user", "pass", "r", ""};
  auto r = cii->pull("r/team/app:1", auth,
                     [&](const cii::PullProgress& p) { progress.push_back(p.status); });
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("docker: pull image 'r/team/app:1': Get"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(progress, std::vector<std::string>{"Pulling from team/app"});
  auto reqs = server.requests();
  const auto& pull = reqs.back();
  EXPECT_EQ(std::string(pull.target()), "/v1.41/images/create?fromImage=r%2Fteam%2Fapp&tag=1");
  EXPECT_EQ(std::string(pull["X-Registry-Auth"]), cii::encodeRegistryAuth(auth));
}

}  // namespace
}  // namespace lb::runtime::docker
