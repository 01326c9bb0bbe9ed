#include <gtest/gtest.h>

#include "lastbackend/http/errors.h"
#include "lastbackend/http/message.h"
#include "lastbackend/http/uri.h"

namespace lb::http {
namespace {

TEST(ErrorMapTest, CodeToHttpStatus) {
  EXPECT_EQ(httpStatusFor(invalidArgument("x")), 400);
  EXPECT_EQ(httpStatusFor(invalidArgument("x", "spec.image")), 422);
  EXPECT_EQ(httpStatusFor(Status(Code::kUnauthenticated, "x")), 401);
  EXPECT_EQ(httpStatusFor(Status(Code::kPermissionDenied, "x")), 403);
  EXPECT_EQ(httpStatusFor(notFound("x")), 404);
  EXPECT_EQ(httpStatusFor(alreadyExists("x")), 409);
  EXPECT_EQ(httpStatusFor(conflict("x")), 409);
  EXPECT_EQ(httpStatusFor(Status(Code::kTooLarge, "x")), 413);
  EXPECT_EQ(httpStatusFor(Status(Code::kUnsupported, "x")), 415);
  EXPECT_EQ(httpStatusFor(Status(Code::kOutOfRange, "x")), 410);
  EXPECT_EQ(httpStatusFor(unavailable("x")), 503);
  EXPECT_EQ(httpStatusFor(Status(Code::kDeadlineExceeded, "x")), 504);
  EXPECT_EQ(httpStatusFor(internalError("x")), 500);
}

TEST(ErrorMapTest, EveryCodeRoundTripsThroughTheBody) {
  for (int i = 1; i <= static_cast<int>(Code::kInternal); ++i) {
    Status s(static_cast<Code>(i), "message \"quoted\" ü", i == 1 ? "spec.x" : "");
    Status back = statusFromResponse(httpStatusFor(s), errorBody(s));
    EXPECT_EQ(back.code(), s.code()) << codeName(s.code());
    EXPECT_EQ(back.message(), s.message());
    EXPECT_EQ(back.field(), s.field());
  }
}

TEST(ErrorMapTest, NonJsonBodiesFallBackToTheHttpStatus) {
  auto s = statusFromResponse(502, "<html>bad gateway</html>");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("bad gateway"), std::string::npos);
  EXPECT_EQ(statusFromResponse(404, "").code(), Code::kNotFound);
  EXPECT_EQ(statusFromResponse(409, R"({"message":"m"})").code(), Code::kConflict);
  EXPECT_EQ(statusFromResponse(409, R"({"status":"AlreadyExists","message":"m"})").code(),
            Code::kAlreadyExists);
}

TEST(UriTest, PercentCoding) {
  EXPECT_EQ(percentDecode("a%20b%2F"), "a b/");
  EXPECT_EQ(percentDecode("a+b", true), "a b");
  EXPECT_EQ(percentDecode("a+b"), "a+b");
  EXPECT_FALSE(percentDecode("%"));
  EXPECT_FALSE(percentDecode("%4"));
  EXPECT_FALSE(percentDecode("%g0"));
  EXPECT_EQ(percentEncode("a b/c~"), "a%20b%2Fc~");
  auto t = splitTarget("/a/b?x=1&y=%20#frag");
  EXPECT_EQ(t.path, "/a/b");
  EXPECT_EQ(t.query, "x=1&y=%20");
  auto q = parseQuery("x=1&y=%20z&flag&&x=2");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ((*q)["x"], "2");
  EXPECT_EQ((*q)["y"], " z");
  EXPECT_EQ((*q)["flag"], "");
  EXPECT_FALSE(parseQuery("a=%zz").isOk());
  EXPECT_EQ(buildQuery({{"b", "x y"}, {"a", "1"}}), "a=1&b=x%20y");
}

TEST(MessageTest, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers = {{"Content-Type", "application/json"}};
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_FALSE(r.header("accept"));
  auto e = Response::error(invalidArgument("bad", "f"));
  EXPECT_EQ(e.status, 422);
}

}  // namespace
}  // namespace lb::http
