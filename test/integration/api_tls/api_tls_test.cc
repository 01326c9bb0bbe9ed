// Mutual TLS end to end. The `openssl` CLI makes a CA, a server certificate
// (CN and SAN 127.0.0.1, SAN localhost), a client certificate, and a second
// CA with its own client certificate, in a temp dir. Each test starts the
// real `lastbackend api` binary with --tls-cert-file/--tls-private-key-file/
// --tls-ca-file on the SQLite store in that dir, talks to it through
// lb_client and the real `lb` binary, and stops it with SIGTERM (exit 0).
//
// LB_TEST_LASTBACKEND / LB_TEST_LB: other binaries to run (e.g. a release build).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "client/client.h"
#include "support/api_process.h"
#include "support/process.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using lb::testing::binaryPath;
using lb::testing::readFile;
using lb::testing::runProcess;

constexpr char kToken[] = "tls-integration-token";

// Certificates for the whole suite, made once per test process.
class ApiTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = lb::testing::makeTempDir("lb-api-tls-");
    ASSERT_FALSE(certs_.empty());
    // EC P-256 keys: fast to make; the server negotiates TLS 1.2+.
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::ofstream(certs_ / "server.ext")
        << "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
    std::ofstream(certs_ / "client.ext") << "extendedKeyUsage=clientAuth\n";
    auto leaf = [&](const std::string& name, const std::string& cn, const std::string& ca,
                    const std::string& ext) {
      return "openssl req " + key + " -keyout " + name + ".key -out " + name +
             ".csr -subj /CN=" + cn + " && openssl x509 -req -in " + name + ".csr -CA " + ca +
             ".pem -CAkey " + ca + ".key -CAcreateserial -days 2 -out " + name + ".pem -extfile " +
             ext + ".ext";
    };
    const std::string script =
        "set -e; cd '" + certs_.string() + "'; " +  //
        "openssl req -x509 " + key + " -keyout ca.key -out ca.pem -days 2 -subj /CN=lb-test-ca; " +
        "openssl req -x509 " + key +
        " -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=lb-other-ca; " +
        leaf("server", "127.0.0.1", "ca", "server") + "; " +
        leaf("client", "lb-client", "ca", "client") + "; " +
        leaf("stranger", "lb-client", "other-ca", "client") + "; ";
    int rc =
        std::system(("(" + script + ") >'" + (certs_ / "openssl.log").string() + "' 2>&1").c_str());
    ASSERT_EQ(rc, 0) << "openssl failed:\n" << readFile(certs_ / "openssl.log");
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(certs_, ec);
  }

  // A fresh `lastbackend api` with mutual TLS per test.
  void SetUp() override {
    dir_ = certs_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_ / "home");
    ASSERT_TRUE(
        api_.start({.binary = binaryPath("LB_TEST_LASTBACKEND", LASTBACKEND_BINARY),
                    .dir = dir_,
                    .token = kToken,
                    .args = {"--tls-cert-file", cert("server.pem"), "--tls-private-key-file",
                             cert("server.key"), "--tls-ca-file", cert("ca.pem")}}));
    // Ready when an authorized client gets an answer.
    auto c = client({});
    std::string problem = api_.waitReady(
        [&] {
          auto r = c->send("GET", "/health");
          return r.isOk() && r->status == 200;
        },
        20s);
    ASSERT_EQ(problem, "") << "(over TLS)";
  }

  void TearDown() override {
    if (api_.running()) EXPECT_EQ(api_.stop(15s), 0) << "after SIGTERM:\n" << api_.log();
  }

  static std::string cert(const std::string& name) { return (certs_ / name).string(); }

  struct Creds {
    std::string scheme = "https";
    std::string host = "127.0.0.1";
    std::string ca = "ca.pem";
    std::string cert = "client.pem";
    std::string key = "client.key";
    std::string token = kToken;
  };

  std::unique_ptr<lb::client::Client> client(const Creds& c) {
    lb::client::ClientOptions o;
    o.endpoint = c.scheme + "://" + c.host + ":" + std::to_string(api_.port());
    o.token = c.token;
    if (!c.ca.empty()) o.caFile = cert(c.ca);
    if (!c.cert.empty()) o.certFile = cert(c.cert);
    if (!c.key.empty()) o.keyFile = cert(c.key);
    o.maxRetries = 0;
    o.connectTimeout = 5s;
    o.requestTimeout = 10s;
    auto made = lb::client::Client::create(o);
    EXPECT_TRUE(made.isOk()) << made.status().toString();
    return made.isOk() ? std::move(*made) : nullptr;
  }

  // `lb args...` with HOME in the test's dir: exit code; its output in *out.
  int lb(const std::vector<std::string>& args, std::string* out) {
    std::vector<std::string> argv{binaryPath("LB_TEST_LB", LB_BINARY)};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = runProcess(argv, {"HOME=" + (dir_ / "home").string()}, dir_, "lb", 30s);
    *out = r.out + r.err;
    return r.code;
  }

  std::string url() const { return api_.url("https"); }

  static inline fs::path certs_;
  fs::path dir_;
  lb::testing::ApiProcess api_;
};

TEST_F(ApiTlsTest, ClientWithCaCertAndTokenIsServed) {
  auto c = client({});
  auto r = c->send("GET", "/namespace");
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, "[]");
  // The server certificate also names localhost; the connection was reused.
  auto byName = client({.host = "localhost"});
  auto r2 = byName->send("GET", "/namespace");
  ASSERT_TRUE(r2.isOk()) << r2.status().toString();
  EXPECT_EQ(r2->status, 200);
  EXPECT_TRUE(c->send("GET", "/namespace").isOk());
  EXPECT_EQ(c->connectionsOpened(), 1u);
}

TEST_F(ApiTlsTest, HandshakeWithoutClientCertificateIsRejected) {
  auto c = client({.cert = "", .key = ""});
  auto r = c->send("GET", "/namespace");
  ASSERT_FALSE(r.isOk()) << "served without a client certificate: " << r->status;
  EXPECT_EQ(r.status().code(), lb::Code::kUnavailable) << r.status().toString();
}

TEST_F(ApiTlsTest, ClientCertificateFromAnotherCaIsRejected) {
  auto c = client({.cert = "stranger.pem", .key = "stranger.key"});
  auto r = c->send("GET", "/namespace");
  ASSERT_FALSE(r.isOk()) << "served a certificate of another CA: " << r->status;
  EXPECT_EQ(r.status().code(), lb::Code::kUnavailable) << r.status().toString();
}

TEST_F(ApiTlsTest, ClientThatDoesNotTrustTheServerCaRefuses) {
  auto c = client({.ca = "other-ca.pem"});
  auto r = c->send("GET", "/namespace");
  ASSERT_FALSE(r.isOk()) << "accepted a server its CA did not sign: " << r->status;
}

TEST_F(ApiTlsTest, PlainHttpToTheTlsPortFails) {
  auto c = client({.scheme = "http", .ca = "", .cert = "", .key = ""});
  auto r = c->send("GET", "/namespace");
  // The server reads the request as a TLS ClientHello, fails the handshake
  // and closes: no HTTP answer at all.
  EXPECT_FALSE(r.isOk()) << "plain HTTP got an answer: " << r->status << " " << r->body;
}

TEST_F(ApiTlsTest, MissingTokenIs401OverTls) {
  auto c = client({.token = ""});
  auto r = c->send("GET", "/namespace");
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 401) << r->body;
  auto wrong = client({.token = "not-the-token"});
  auto r2 = wrong->send("GET", "/namespace");
  ASSERT_TRUE(r2.isOk()) << r2.status().toString();
  EXPECT_EQ(r2->status, 401);
}

TEST_F(ApiTlsTest, LbCliWithStoredTlsCluster) {
  std::string out;
  ASSERT_EQ(lb({"cluster", "add", "x", url(), "--token", kToken, "--tlscacert", cert("ca.pem"),
                "--tlscert", cert("client.pem"), "--tlskey", cert("client.key")},
               &out),
            0)
      << out;
  ASSERT_EQ(lb({"namespace", "create", "demo"}, &out), 0) << out;
  ASSERT_EQ(lb({"namespace", "ls"}, &out), 0) << out;
  EXPECT_NE(out.find("demo"), std::string::npos) << out;

  // The same cluster without the client certificate: the handshake fails, `lb` says so.
  ASSERT_EQ(
      lb({"cluster", "add", "nocert", url(), "--token", kToken, "--tlscacert", cert("ca.pem")},
         &out),
      0)
      << out;
  EXPECT_EQ(lb({"-C", "nocert", "namespace", "ls"}, &out), 1) << out;
}

TEST_F(ApiTlsTest, SigtermStopsWithExitZero) {
  ASSERT_TRUE(api_.running());
  EXPECT_EQ(api_.stop(15s), 0) << api_.log();
}

}  // namespace
