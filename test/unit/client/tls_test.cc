// Mutual TLS between the client and the server, with a CA, server and client
// certificates the test makes itself with the openssl CLI.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_server.h"

namespace lb::client {
namespace {

namespace fs = std::filesystem;
using http::testing::kToken;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("lb-tls-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "server.ext") << "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                          "extendedKeyUsage=serverAuth\n";
    std::ofstream(dir_ / "client.ext") << "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
    std::ofstream(dir_ / "other.ext") << "basicConstraints=CA:FALSE\nsubjectAltName=DNS:other.example\n";
    std::string d = dir_.string();
    std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    auto leaf = [&](const std::string& name, const std::string& ca) {
      return "openssl req" + key + "-keyout " + d + "/" + name + ".key -out " + d + "/" + name +
             ".csr -subj /CN=" + name + " && openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/" +
             ca + ".pem -CAkey " + d + "/" + ca + ".key -CAcreateserial -days 1 -out " + d + "/" + name +
             ".pem -extfile " + d + "/" + name + ".ext";
    };
    std::string cmd = "(openssl req -x509" + key + "-keyout " + d + "/ca.key -out " + d +
                      "/ca.pem -days 1 -subj /CN=lb-test-ca -addext basicConstraints=critical,CA:TRUE "
                      "-addext keyUsage=critical,keyCertSign,cRLSign && " +
                      "openssl req -x509" + key + "-keyout " + d + "/rogue.key -out " + d +
                      "/rogue.pem -days 1 -subj /CN=rogue-ca -addext basicConstraints=critical,CA:TRUE && " +
                      leaf("server", "ca") + " && " + leaf("client", "ca") + " && " + leaf("other", "ca") +
                      ") >" + d + "/openssl.log 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "see " << d << "/openssl.log";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  std::string file(const std::string& name) { return (dir_ / name).string(); }

  void startServer(bool requireClientCert, const std::string& cert = "server") {
    http::ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.token = kToken;
    o.tlsCertFile = file(cert + ".pem");
    o.tlsKeyFile = file(cert + ".key");
    if (requireClientCert) o.tlsCaFile = file("ca.pem");
    auto s = http::Server::create(o);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    server_ = std::move(*s);
    ASSERT_TRUE(server_->router().get("/whoami", [](const http::Request&) { return http::Response::text(200, "tls"); }).isOk());
    ASSERT_TRUE(server_->start().isOk());
    ASSERT_TRUE(server_->tls());
  }

  StatusOr<std::string> get(std::function<void(ClientOptions&)> f, const std::string& host = "127.0.0.1") {
    ClientOptions o;
    o.endpoint = "https://" + host + ":" + std::to_string(server_->port());
    o.token = kToken;
    o.maxRetries = 0;
    o.connectTimeout = std::chrono::seconds(3);
    o.requestTimeout = std::chrono::seconds(3);
    f(o);
    auto c = Client::create(o);
    if (!c.isOk()) return c.status();
    auto first = (*c)->get("/whoami");
    if (!first.isOk()) return first;
    return (*c)->get("/whoami");  // and once more over the pooled connection
  }

  static inline fs::path dir_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(TlsTest, MutualTlsWithClientCertificate) {
  startServer(true);
  auto res = get([&](ClientOptions& o) {
    o.caFile = file("ca.pem");
    o.certFile = file("client.pem");
    o.keyFile = file("client.key");
  });
  ASSERT_TRUE(res.isOk()) << res.status().toString();
  EXPECT_EQ(*res, "tls");
}

TEST_F(TlsTest, ClientWithoutCertificateIsRejected) {
  startServer(true);
  auto res = get([&](ClientOptions& o) { o.caFile = file("ca.pem"); });
  EXPECT_FALSE(res.isOk());
}

TEST_F(TlsTest, ClientCertificateFromAnotherCaIsRejected) {
  startServer(true);
  auto res = get([&](ClientOptions& o) {
    o.caFile = file("ca.pem");
    o.certFile = file("rogue.pem");
    o.keyFile = file("rogue.key");
  });
  EXPECT_FALSE(res.isOk());
}

TEST_F(TlsTest, ServerCertificateIsVerified) {
  startServer(false);
  // Signed by our CA, with our CA: fine, by IP and by name.
  EXPECT_TRUE(get([&](ClientOptions& o) { o.caFile = file("ca.pem"); }).isOk());
  EXPECT_TRUE(get([&](ClientOptions& o) { o.caFile = file("ca.pem"); }, "localhost").isOk());
  // Wrong CA, or the system store: refused.
  auto wrongCa = get([&](ClientOptions& o) { o.caFile = file("rogue.pem"); });
  EXPECT_EQ(wrongCa.status().code(), Code::kUnavailable);
  EXPECT_NE(wrongCa.status().message().find("TLS handshake"), std::string::npos) << wrongCa.status().message();
  EXPECT_FALSE(get([](ClientOptions&) {}).isOk());
  // Explicitly insecure: accepted.
  EXPECT_TRUE(get([](ClientOptions& o) { o.tlsInsecure = true; }).isOk());
}

TEST_F(TlsTest, HostNameIsVerified) {
  startServer(false, "other");  // certificate for other.example only
  auto res = get([&](ClientOptions& o) { o.caFile = file("ca.pem"); });
  EXPECT_FALSE(res.isOk());
}

TEST_F(TlsTest, PlainHttpToTlsPortFails) {
  startServer(false);
  ClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(server_->port());
  o.maxRetries = 0;
  o.requestTimeout = std::chrono::seconds(3);
  auto c = Client::create(o);
  EXPECT_FALSE((*c)->get("/whoami").isOk());
}

}  // namespace
}  // namespace lb::client
