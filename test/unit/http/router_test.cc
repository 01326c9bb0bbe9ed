#include "http/router.h"

#include <gtest/gtest.h>

#include "http/auth.h"

namespace lb::http {
namespace {

Handler ok() {
  return [](const Request&) { return Response::json(200, "{}"); };
}

TEST(RouterTest, MatchesParamsAndPrefersLiterals) {
  Router r;
  ASSERT_TRUE(r.get("/namespace/{namespace}", ok()).isOk());
  ASSERT_TRUE(r.get("/namespace/{namespace}/service/{service}", ok()).isOk());
  ASSERT_TRUE(r.get("/node/{node}", ok()).isOk());
  ASSERT_TRUE(r.get("/node/self", ok()).isOk());
  auto m = r.match("GET", "/namespace/demo/service/web%20x");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->info.pattern, "/namespace/{namespace}/service/{service}");
  EXPECT_EQ(m.params["namespace"], "demo");
  EXPECT_EQ(m.params["service"], "web x");
  EXPECT_EQ(r.match("GET", "/node/self").route->info.pattern, "/node/self");
  EXPECT_EQ(r.match("GET", "/node/n1").route->info.pattern, "/node/{node}");
  EXPECT_EQ(r.match("GET", "/namespace/demo/").kind, RouteMatch::Kind::kFound);  // trailing slash
}

TEST(RouterTest, NotFoundAndMethodNotAllowed) {
  Router r;
  ASSERT_TRUE(r.get("/namespace/{namespace}", ok()).isOk());
  ASSERT_TRUE(r.del("/namespace/{namespace}", ok()).isOk());
  EXPECT_EQ(r.match("GET", "/nope").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.match("GET", "/namespace/a/b").kind, RouteMatch::Kind::kNotFound);
  auto m = r.match("PUT", "/namespace/x");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"DELETE", "GET"}));
}

TEST(RouterTest, RejectsPathTricks) {
  Router r;
  ASSERT_TRUE(r.get("/namespace/{namespace}", ok()).isOk());
  for (const char* p : {"/namespace/..%2fetc", "/namespace/%2e%2e", "/namespace/..", "/namespace/.",
                        "/namespace/a%00b", "/namespace/a%2fb", "/namespace/a%5cb", "/namespace/%252e%252e",
                        "/namespace/%zz", "/namespace/a%", "/namespace/a%0ab", "/namespace//x", "namespace/x"}) {
    auto m = r.match("GET", p);
    EXPECT_EQ(m.kind, RouteMatch::Kind::kBadPath) << p;
    EXPECT_EQ(m.error.code(), Code::kInvalidArgument) << p;
  }
}

TEST(RouterTest, RegistrationErrorsAndIntrospection) {
  Router r;
  EXPECT_TRUE(r.get("/health", ok(), {.isPublic = true}).isOk());
  EXPECT_TRUE(r.post("/namespace", ok()).isOk());
  EXPECT_TRUE(r.addWebSocket("/events", [](const Request&, WebSocketConnection&) {}).isOk());
  EXPECT_EQ(r.get("/namespace/{a}", ok()).code(), Code::kOk);
  EXPECT_EQ(r.get("/namespace/{b}", ok()).code(), Code::kAlreadyExists);
  EXPECT_EQ(r.get("/events", ok()).code(), Code::kAlreadyExists);
  EXPECT_EQ(r.get("no-slash", ok()).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.get("/a/{b", ok()).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.get("/a//b", ok()).code(), Code::kInvalidArgument);
  auto routes = r.routes();
  ASSERT_EQ(routes.size(), 4u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].pattern, "/health");
  EXPECT_TRUE(routes[0].isPublic);
  EXPECT_TRUE(routes[2].websocket);
  EXPECT_EQ(routes[3].pattern, "/namespace/{a}");
}

TEST(TokenAuthTest, ChecksHeaderAndQuery) {
  EXPECT_EQ(TokenAuth::create("").status().code(), Code::kInvalidArgument);
  auto a = TokenAuth::create("s3cret");
  ASSERT_TRUE(a.isOk());
  EXPECT_TRUE(a->check({{"Authorization", "Bearer s3cret"}}, {}).isOk());
  EXPECT_TRUE(a->check({{"authorization", "bearer s3cret"}}, {}).isOk());
  EXPECT_TRUE(a->check({}, {{"x-lastbackend", "s3cret"}}).isOk());
  EXPECT_EQ(a->check({}, {}).code(), Code::kUnauthenticated);
  EXPECT_EQ(a->check({{"Authorization", "Bearer wrong"}}, {}).code(), Code::kUnauthenticated);
  EXPECT_EQ(a->check({{"Authorization", "Basic s3cret"}}, {}).code(), Code::kUnauthenticated);
  EXPECT_EQ(a->check({{"Authorization", "Bearer s3cret-and-more"}}, {}).code(), Code::kUnauthenticated);
  EXPECT_EQ(a->check({{"Authorization", "Bearer "}}, {}).message(), "missing token");
}

}  // namespace
}  // namespace lb::http
