// Mutual TLS end to end. The `openssl` CLI makes a CA, a server certificate
// (CN and SAN 127.0.0.1, SAN localhost), a client certificate, and a second
// CA with its own client certificate, in a temp dir. Each test starts the
// real `lastbackend api` binary with --tls-cert-file/--tls-private-key-file/
// --tls-ca-file on the SQLite store in that dir, talks to it through
// lb_client and the real `lb` binary, and stops it with SIGTERM (exit 0).
//
// LB_TEST_LASTBACKEND / LB_TEST_LB: other binaries to run (e.g. a release build).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "support/process.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using lb::testing::freeLoopbackPort;
using lb::testing::readFile;
using lb::testing::spawnProcess;
using lb::testing::waitExit;

constexpr char kToken[] = "tls-integration-token";

std::string binary(const char* env, const char* builtIn) {
  const char* v = std::getenv(env);
  return v && *v ? v : builtIn;
}

// Certificates for the whole suite, made once per test process.
class ApiTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (fs::temp_directory_path() / "lb-api-tls-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    certs_ = tmpl;
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
    port_ = freeLoopbackPort();
    api_ =
        spawnProcess({binary("LB_TEST_LASTBACKEND", LASTBACKEND_BINARY), "api", "--tls-cert-file",
                      cert("server.pem"), "--tls-private-key-file", cert("server.key"),
                      "--tls-ca-file", cert("ca.pem"), "--storage", "sqlite", "--sqlite-path",
                      (dir_ / "lastbackend.db").string(), "--bind-address", "127.0.0.1",
                      "--bind-port", std::to_string(port_), "--access-token", kToken},
                     {}, dir_ / "api.log", dir_ / "api.log", /*append=*/true);
    ASSERT_GT(api_, 0);
    // Ready when an authorized client gets an answer; a daemon that exits is reported.
    auto c = client({});
    auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      if (lb::testing::exited(api_)) {
        api_ = -1;
        FAIL() << "lastbackend api exited:\n" << readFile(dir_ / "api.log");
      }
      auto r = c->send("GET", "/health");
      if (r.isOk() && r->status == 200) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "lastbackend api did not answer over TLS within 20 s:\n"
          << readFile(dir_ / "api.log");
      std::this_thread::sleep_for(50ms);
    }
  }

  void TearDown() override {
    if (api_ > 0) {
      ::kill(api_, SIGTERM);
      EXPECT_EQ(waitExit(api_, 15s), 0) << "after SIGTERM:\n" << readFile(dir_ / "api.log");
    }
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
    o.endpoint = c.scheme + "://" + c.host + ":" + std::to_string(port_);
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

  // `lb args...` with HOME in the test's dir: exit code; output in *out.
  int lb(const std::vector<std::string>& args, std::string* out) {
    std::vector<std::string> argv{binary("LB_TEST_LB", LB_BINARY)};
    argv.insert(argv.end(), args.begin(), args.end());
    fs::path log = dir_ / "lb.log";
    fs::remove(log);
    pid_t pid = spawnProcess(argv, {"HOME=" + (dir_ / "home").string()}, log, log, /*append=*/true);
    if (pid <= 0) return -1;
    int code = waitExit(pid, 30s);
    *out = readFile(log);
    return code;
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  static inline fs::path certs_;
  fs::path dir_;
  uint16_t port_ = 0;
  pid_t api_ = -1;
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
  ASSERT_GT(api_, 0);
  ASSERT_EQ(::kill(api_, SIGTERM), 0);
  int code = waitExit(api_, 15s);
  api_ = -1;
  EXPECT_EQ(code, 0) << readFile(dir_ / "api.log");
}

}  // namespace
