// The Docker wire helpers fed bytes split at every position.

#include "runtime/docker/wire.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "runtime/docker/client.h"
#include "unit/runtime/fake_docker_server.h"

namespace lb::runtime::docker {
namespace {

using lb::test::logFrame;

struct Demuxed {
  std::string out, err;
};

Demuxed demuxInPieces(const std::string& body, size_t piece) {
  LogDemuxer d(false);
  Demuxed got;
  for (size_t i = 0; i < body.size(); i += piece) {
    Status s = d.feed(std::string_view(body).substr(i, piece), [&](int stream, std::string_view p) {
      (stream == 2 ? got.err : got.out).append(p);
      return true;
    });
    EXPECT_TRUE(s.isOk()) << s.message();
  }
  EXPECT_TRUE(d.atBoundary());
  return got;
}

TEST(LogDemuxerTest, SplitsStdoutAndStderrAtEveryPieceSize) {
  std::string body = logFrame(1, "hello\n") + logFrame(2, "oops\n") + logFrame(1, "") +
                     logFrame(1, std::string(70000, 'x')) + logFrame(0, "stdin-as-out\n");
  for (size_t piece : {1u, 2u, 3u, 7u, 8u, 9u, 13u, 4096u, 1000000u}) {
    auto got = demuxInPieces(body, piece);
    EXPECT_EQ(got.out, "hello\n" + std::string(70000, 'x') + "stdin-as-out\n") << piece;
    EXPECT_EQ(got.err, "oops\n") << piece;
  }
}

TEST(LogDemuxerTest, TtyPassesBytesThrough) {
  LogDemuxer d(true);
  std::string got;
  ASSERT_TRUE(d.feed("\x01raw", [&](int s, std::string_view p) {
                 EXPECT_EQ(s, 1);
                 got.append(p);
                 return true;
               }).isOk());
  EXPECT_EQ(got, "\x01raw");
}

TEST(LogDemuxerTest, StopsWhenTheSinkSaysSo) {
  LogDemuxer d(false);
  int calls = 0;
  std::string body = logFrame(1, "a") + logFrame(1, "b");
  ASSERT_TRUE(d.feed(body, [&](int, std::string_view) { return ++calls < 1; }).isOk());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(d.stopped());
}

TEST(LogDemuxerTest, MalformedHeaderAndSystemErrorAreErrors) {
  LogDemuxer d(false);
  Status s =
      d.feed(std::string("\x07\0\0\0\0\0\0\x01x", 9), [](int, std::string_view) { return true; });
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("TTY"), std::string::npos);

  LogDemuxer d2(false);
  s = d2.feed(logFrame(3, "container gone"), [](int, std::string_view) { return true; });
  EXPECT_NE(s.message().find("container gone"), std::string::npos);
}

TEST(LineSplitterTest, SplitsJsonLinesAcrossPieces) {
  std::string body = "{\"a\":1}\r\n\n{\"b\":2}\n  \n{\"c\":3}";
  for (size_t piece = 1; piece <= body.size(); ++piece) {
    LineSplitter s;
    std::vector<std::string> lines;
    auto out = [&](std::string_view l) {
      lines.emplace_back(l);
      return true;
    };
    for (size_t i = 0; i < body.size(); i += piece)
      s.feed(std::string_view(body).substr(i, piece), out);
    s.finish(out);
    EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"})) << piece;
  }
}

TEST(ErrorFromResponseTest, MapsStatusAndKeepsTheDaemonsMessage) {
  Status s = errorFromResponse(404, R"({"message":"No such image: lb/nope:1"})");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "404 No such image: lb/nope:1");
  EXPECT_EQ(errorFromResponse(
                409, R"({"message":"Conflict. The container name \"/x\" is already in use"})")
                .code(),
            Code::kAlreadyExists);
  EXPECT_EQ(errorFromResponse(409, R"({"message":"conflict: unable to remove"})").code(),
            Code::kConflict);
  EXPECT_EQ(errorFromResponse(400, "bad\n").message(), "400 bad");
  EXPECT_EQ(errorFromResponse(500, "{}").code(), Code::kInternal);
  EXPECT_EQ(errorFromResponse(403, "{}").code(), Code::kPermissionDenied);
}

TEST(ApiVersionTest, NegotiatesTheLowerOfDaemonAndOurs) {
  EXPECT_EQ(negotiateApiVersion("1.41")->str(), "1.41");
  EXPECT_EQ(negotiateApiVersion("1.43")->str(), "1.41");
  EXPECT_EQ(negotiateApiVersion("1.30")->str(), "1.30");
  EXPECT_EQ(negotiateApiVersion("1.24").status().code(), Code::kUnavailable);
  EXPECT_FALSE(negotiateApiVersion("one.two").isOk());
  EXPECT_FALSE(negotiateApiVersion("").isOk());
  EXPECT_LT(parseApiVersion("1.9"), parseApiVersion("1.10"));
}

TEST(FiltersTest, LabelsAndEmptyListsLeftOut) {
  EXPECT_EQ(filtersJson({{"label", labelFilterValues({{"a", "1"}, {"b", ""}})}, {"event", {}}}),
            R"({"label":["a=1","b"]})");
}

TEST(EscapeRefTest, KeepsSlashesColonsAndAt) {
  EXPECT_EQ(escapeRef("localhost:5000/team/app:1.0"), "localhost:5000/team/app:1.0");
  EXPECT_EQ(escapeRef("a b/c"), "a%20b/c");
  EXPECT_EQ(normalizeTime("0001-01-01T00:00:00Z"), "");
  EXPECT_EQ(normalizeTime("2024-01-01T00:00:00Z"), "2024-01-01T00:00:00Z");
}

TEST(ResolveSocketTest, UnixOnlyWithDockerHostFallback) {
  ::unsetenv("DOCKER_HOST");
  EXPECT_EQ(*resolveSocket(""), "/var/run/docker.sock");
  EXPECT_EQ(*resolveSocket("unix:///run/x.sock"), "/run/x.sock");
  EXPECT_EQ(*resolveSocket("/run/y.sock"), "/run/y.sock");
  auto tcp = resolveSocket("tcp://127.0.0.1:2375");
  ASSERT_FALSE(tcp.isOk());
  EXPECT_EQ(tcp.status().code(), Code::kInvalidArgument);
  EXPECT_NE(tcp.status().message().find("only unix://"), std::string::npos);
  EXPECT_FALSE(resolveSocket("unix://relative").isOk());

  ::setenv("DOCKER_HOST", "unix:///env/docker.sock", 1);
  EXPECT_EQ(*resolveSocket(""), "/env/docker.sock");
  EXPECT_EQ(*resolveSocket("/explicit.sock"), "/explicit.sock");
  ::setenv("DOCKER_HOST", "tcp://10.0.0.1:2376", 1);
  auto env = resolveSocket("");
  ASSERT_FALSE(env.isOk());
  EXPECT_NE(env.status().message().find("DOCKER_HOST"), std::string::npos);
  ::unsetenv("DOCKER_HOST");
}

}  // namespace
}  // namespace lb::runtime::docker
