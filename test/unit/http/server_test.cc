#include <future>

#include "test_server.h"

namespace lb::http::testing {
namespace {

using nlohmann::json;

class ServerTest : public ServerFixture {};

TEST_F(ServerTest, RoutesWithDecodedParams) {
  auto c = makeClient();
  auto body = c->get("/namespace/demo/service/web%2D1", {{"x", "a b"}});
  ASSERT_TRUE(body.isOk()) << body.status().toString();
  auto j = json::parse(*body);
  EXPECT_EQ(j["params"]["namespace"], "demo");
  EXPECT_EQ(j["params"]["service"], "web-1");
  EXPECT_EQ(j["query"]["x"], "a b");
  EXPECT_EQ(j["route"], "/namespace/{namespace}/service/{service}");
}

TEST_F(ServerTest, PathTricksAreBadRequests) {
  auto c = makeClient();
  for (const char* p : {"/namespace/..%2fetc", "/namespace/..%2Fetc%2Fpasswd", "/namespace/%2e%2e",
                        "/namespace/a%00b", "/namespace/%252e%252e", "/namespace/%25%32%65", "/namespace/%zz",
                        "/namespace/..", "/namespace/a%2fb/service/x"}) {
    auto res = c->send("GET", p);
    ASSERT_TRUE(res.isOk()) << p << ": " << res.status().toString();
    EXPECT_EQ(res->status, 400) << p;
    EXPECT_EQ(json::parse(res->body)["status"], "InvalidArgument") << p;
  }
  // Without a token too: the path is checked before anything else.
  auto anon = makeClient("");
  EXPECT_EQ(anon->send("GET", "/namespace/..%2fetc")->status, 400);
}

TEST_F(ServerTest, UnknownRouteIs404AndWrongMethodIs405) {
  auto c = makeClient();
  auto res = c->send("GET", "/no/such/thing");
  ASSERT_TRUE(res.isOk());
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["status"], "NotFound");
  res = c->send("DELETE", "/namespace/demo");
  ASSERT_TRUE(res.isOk());
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->header("Allow"), "GET, POST");
  EXPECT_EQ(json::parse(res->body)["code"], 405);
}

// Fills each {param} of a pattern so every registered route can be probed.
std::string samplePath(const std::string& pattern) {
  std::string out;
  bool inParam = false;
  for (char ch : pattern) {
    if (ch == '{') {
      inParam = true;
      out += "1";
    } else if (ch == '}') {
      inParam = false;
    } else if (!inParam) {
      out += ch;
    }
  }
  return out;
}

TEST_F(ServerTest, EveryNonPublicRouteNeedsTheToken) {
  auto anon = makeClient("");
  auto wrong = makeClient("not-the-token");
  int checked = 0;
  for (const auto& r : server_->router().routes()) {
    std::string path = samplePath(r.pattern);
    for (auto* c : {anon.get(), wrong.get()}) {
      auto res = c->send(r.method, path);
      ASSERT_TRUE(res.isOk());
      if (r.isPublic) {
        EXPECT_EQ(res->status, 200) << path;
      } else {
        EXPECT_EQ(res->status, 401) << r.method << " " << path;
        EXPECT_EQ(json::parse(res->body)["status"], "Unauthenticated");
        EXPECT_EQ(res->header("WWW-Authenticate"), "Bearer");
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 16);
  // Unknown paths and wrong methods do not reveal themselves to anonymous clients.
  EXPECT_EQ(anon->send("GET", "/no/such/thing")->status, 401);
  EXPECT_EQ(anon->send("DELETE", "/namespace/x")->status, 401);
  auto err = wrong->get("/namespace/x");
  EXPECT_EQ(err.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(err.status().message(), "invalid token");
}

TEST_F(ServerTest, TokenInHeaderOrQuery) {
  auto anon = makeClient("");
  auto body = anon->get("/namespace/demo", {{"x-lastbackend", kToken}, {"keep", "1"}});
  ASSERT_TRUE(body.isOk()) << body.status().toString();
  auto j = json::parse(*body);
  EXPECT_FALSE(j["query"].contains("x-lastbackend"));  // handlers never see the token
  EXPECT_EQ(j["query"]["keep"], "1");
  EXPECT_EQ(j["target"], "/namespace/demo?keep=1");
  RawConn raw(server_->port());
  raw.send(std::string("GET /namespace/demo HTTP/1.1\r\nHost: x\r\nAuthorization: bearer ") + kToken + "\r\n\r\n");
  EXPECT_EQ(statusOf(raw.readResponse()), 200);
}

TEST_F(ServerTest, HealthIsPublic) {
  auto anon = makeClient("");
  auto body = anon->get("/health");
  ASSERT_TRUE(body.isOk());
  EXPECT_EQ(*body, "ok");
}

TEST_F(ServerTest, OversizedBodyIs413BeforeTheBodyIsRead) {
  // Announce 9 MiB, send none of it: the answer must come from the head alone.
  RawConn raw(server_->port());
  raw.send(std::string("POST /namespace/demo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
           "\r\nContent-Length: " + std::to_string(9u << 20) + "\r\n\r\n");
  auto res = raw.readResponse();
  EXPECT_EQ(statusOf(res), 413) << res;
  EXPECT_NE(res.find("\"status\":\"TooLarge\""), std::string::npos);
  // Within the limit it works.
  auto c = makeClient();
  auto ok = c->post("/namespace/demo", std::string(1 << 20, 'x'));
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(json::parse(*ok)["bodySize"], 1 << 20);
}

class SmallBodyServerTest : public ServerFixture {
  void tweak(ServerOptions& o) override { o.maxBodyBytes = 1024; }
};

TEST_F(SmallBodyServerTest, ClientSeesTooLarge) {
  auto c = makeClient();
  auto res = c->post("/namespace/demo", std::string(4096, 'x'));
  EXPECT_EQ(res.status().code(), Code::kTooLarge) << res.status().toString();
  // Chunked bodies are limited as they arrive.
  RawConn raw(server_->port());
  raw.send(std::string("POST /namespace/demo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
           "\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + std::string(2048, 'y') + "\r\n0\r\n\r\n");
  EXPECT_EQ(statusOf(raw.readResponse()), 413);
  EXPECT_TRUE(c->get("/health").isOk());
}

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  auto c = makeClient();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->get("/namespace/n" + std::to_string(i)).isOk());
  EXPECT_EQ(c->connectionsOpened(), 1u);
  RawConn raw(server_->port());
  for (int i = 0; i < 3; ++i) {
    raw.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    auto res = raw.readResponse();
    EXPECT_EQ(statusOf(res), 200) << i;
    EXPECT_NE(res.find("\r\n\r\nok"), std::string::npos);
  }
}

TEST_F(ServerTest, HandlerExceptionIs500AndServerSurvives) {
  auto c = makeClient();
  auto res = c->send("GET", "/boom");
  ASSERT_TRUE(res.isOk());
  EXPECT_EQ(res->status, 500);
  auto j = json::parse(res->body);
  EXPECT_EQ(j["status"], "Internal");
  EXPECT_EQ(j["message"], "internal server error");  // no internals leaked
  EXPECT_TRUE(c->get("/health").isOk());
  EXPECT_TRUE(c->get("/namespace/x").isOk());
}

TEST_F(ServerTest, MalformedHttpIs400) {
  {
    RawConn raw(server_->port());
    raw.send("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
    EXPECT_EQ(statusOf(raw.readResponse()), 400);
  }
  {
    RawConn raw(server_->port());
    raw.send("GET /health HTTP/1.1\r\nBad Header\r\n\r\n");
    EXPECT_EQ(statusOf(raw.readResponse()), 400);
  }
  {
    RawConn raw(server_->port());
    raw.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_EQ(statusOf(raw.readResponse()), 431);
  }
}

TEST_F(ServerTest, ErrorsRoundTripIntoStatus) {
  auto c = makeClient();
  for (int i = 1; i <= static_cast<int>(Code::kInternal); ++i) {
    auto code = static_cast<Code>(i);
    auto res = c->get("/status/" + std::to_string(i));
    ASSERT_FALSE(res.isOk());
    EXPECT_EQ(res.status().code(), code) << codeName(code);
    EXPECT_EQ(res.status().message(), "failed with " + std::to_string(i));
    EXPECT_EQ(res.status().field(), code == Code::kInvalidArgument ? "spec.image" : "");
  }
  EXPECT_EQ(c->send("GET", "/status/1")->status, 422);
}

TEST_F(ServerTest, StreamingResponse) {
  auto c = makeClient();
  std::string got;
  int chunks = 0;
  auto s = c->stream("/stream", {}, [&](std::string_view chunk) {
    got += chunk;
    ++chunks;
    return true;
  });
  ASSERT_TRUE(s.isOk()) << s.toString();
  EXPECT_EQ(got, "line 0\nline 1\nline 2\nline 3\nline 4\n");
  EXPECT_GE(chunks, 2);  // delivered as it arrived, not all at the end
  // Errors before streaming come back as Status.
  EXPECT_EQ(makeClient("")->stream("/stream", {}, [](std::string_view) { return true; }).code(),
            Code::kUnauthenticated);
}

TEST_F(ServerTest, StreamEndsWhenTheClientGoesAway) {
  auto c = makeClient();
  int n = 0;
  ASSERT_TRUE(c->stream("/follow", {}, [&](std::string_view) { return ++n < 3; }).isOk());
  for (int i = 0; i < 200 && !followEnded_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(followEnded_);
}

TEST_F(ServerTest, StopCancelsStreams) {
  auto c = makeClient();
  auto f = std::async(std::launch::async, [&] {
    return c->stream("/follow", {}, [](std::string_view) { return true; });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto t0 = std::chrono::steady_clock::now();
  server_->stop(std::chrono::seconds(5));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_TRUE(followEnded_);
  f.wait();
}

TEST_F(ServerTest, ParkedRequestIsAnsweredLaterOnTheSameKeepAliveConnection) {
  RawConn conn(server_->port(), 10'000);
  std::string auth = std::string("Authorization: Bearer ") + kToken + "\r\n";
  conn.send("GET /later HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n");
  auto r = parked();
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->cancelled());
  r->respond(Response::text(200, "late"));
  r->respond(Response::text(500, "ignored: only the first answer counts"));
  std::string res = conn.readResponse();
  EXPECT_EQ(statusOf(res), 200) << res;
  EXPECT_NE(res.find("\r\n\r\nlate"), std::string::npos) << res;
  EXPECT_TRUE(r->cancelled());  // answered
  // The connection goes on: a second parked request, answered from a worker.
  conn.send("GET /later HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n");
  auto r2 = parked(1);
  ASSERT_NE(r2, nullptr);
  r2->respondFrom([] { return Response::json(201, "{\"made\":true}"); });
  res = conn.readResponse();
  EXPECT_EQ(statusOf(res), 201) << res;
  EXPECT_NE(res.find("{\"made\":true}"), std::string::npos) << res;
  conn.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(statusOf(conn.readResponse()), 200);
}

TEST_F(ServerTest, ParkedRequestIsCancelledWhenTheClientGoesAway) {
  {
    RawConn conn(server_->port());
    conn.send(std::string("GET /later HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
              "\r\n\r\n");
    ASSERT_NE(parked(), nullptr);
  }  // closed
  auto r = parked();
  bool cancelled = false;
  for (int i = 0; i < 500 && !(cancelled = r->cancelled()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(cancelled);
  r->respond(Response::text(200, "nobody listens"));  // harmless
}

TEST_F(ServerTest, StopAnswersParkedRequests) {
  RawConn conn(server_->port(), 10'000);
  conn.send(std::string("GET /later HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
            "\r\n\r\n");
  auto r = parked();
  ASSERT_NE(r, nullptr);
  server_->stop(std::chrono::seconds(5));
  std::string res = conn.readResponse();
  EXPECT_EQ(statusOf(res), 503) << res;
  EXPECT_TRUE(r->cancelled());
  r->respond(Response::text(200, "too late"));  // after stop: ignored
}

TEST_F(ServerTest, GracefulStopCompletesInFlightRequest) {
  auto c = makeClient();
  auto idle = makeClient();
  ASSERT_TRUE(idle->get("/health").isOk());  // leaves an idle keep-alive connection
  auto f = std::async(std::launch::async, [&] { return c->get("/slow"); });
  while (slowStarted_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->stop(std::chrono::seconds(5));
  auto res = f.get();
  ASSERT_TRUE(res.isOk()) << res.status().toString();
  EXPECT_EQ(*res, "slow-done");
  auto after = makeClient("", [](client::ClientOptions& o) { o.maxRetries = 0; });
  EXPECT_EQ(after->get("/health").status().code(), Code::kUnavailable);
}

TEST_F(ServerTest, MetricsCountRequests) {
  auto c = makeClient();
  ASSERT_TRUE(c->get("/health").isOk());
  ASSERT_TRUE(c->get("/namespace/a").isOk());
  ASSERT_TRUE(c->get("/namespace/b").isOk());
  EXPECT_EQ(c->send("GET", "/nothing")->status, 404);
  auto text = c->get("/metrics");
  ASSERT_TRUE(text.isOk());
  EXPECT_NE(text->find("# TYPE lb_http_requests_total counter"), std::string::npos);
  EXPECT_NE(text->find("lb_http_requests_total{code=\"200\",method=\"GET\",route=\"/namespace/{namespace}\"} 2"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("lb_http_requests_total{code=\"200\",method=\"GET\",route=\"/health\"} 1"), std::string::npos);
  EXPECT_NE(text->find("lb_http_requests_total{code=\"404\",method=\"GET\",route=\"unmatched\"} 1"), std::string::npos);
  EXPECT_NE(text->find("lb_http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"+Inf\"} 1"),
            std::string::npos);
}

class TimeoutServerTest : public ServerFixture {
  void tweak(ServerOptions& o) override {
    o.headerTimeout = std::chrono::milliseconds(300);
    o.idleTimeout = std::chrono::milliseconds(300);
    o.maxConnections = 3;
  }
};

TEST_F(TimeoutServerTest, SlowHeadersAreCutOff) {
  RawConn raw(server_->port());
  auto t0 = std::chrono::steady_clock::now();
  raw.send("GET /health HTTP/1.1\r\nHost: x\r\n");  // and never finish the head
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    raw.send("X-Drip: 1\r\n");
  }
  EXPECT_TRUE(raw.closedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST_F(TimeoutServerTest, IdleKeepAliveClosesAndClientReconnects) {
  auto c = makeClient();
  ASSERT_TRUE(c->get("/health").isOk());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto res = c->post("/namespace/x", "{}");  // stale pooled connection: retried transparently
  ASSERT_TRUE(res.isOk()) << res.status().toString();
  EXPECT_EQ(c->connectionsOpened(), 2u);
}

TEST_F(TimeoutServerTest, ConnectionLimitAnswers503) {
  RawConn a(server_->port()), b(server_->port()), d(server_->port());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  RawConn over(server_->port());
  auto res = over.readResponse();
  EXPECT_EQ(statusOf(res), 503) << res;
}

TEST(ServerOptionsTest, RequiresTokenAndCompleteTls) {
  ServerOptions o;
  o.port = 0;
  EXPECT_EQ(Server::create(o).status().code(), Code::kInvalidArgument);
  o.token = "t";
  o.tlsCertFile = "/nonexistent.pem";
  EXPECT_EQ(Server::create(o).status().code(), Code::kInvalidArgument);
  o.tlsKeyFile = "/nonexistent.key";
  auto s = Server::create(o);
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("/nonexistent.pem"), std::string::npos);
  o.tlsCertFile.clear();
  o.tlsKeyFile.clear();
  o.address = "not-an-address";
  auto bad = Server::create(o);
  ASSERT_TRUE(bad.isOk());
  EXPECT_EQ((*bad)->start().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace lb::http::testing
