// The CRI and CII conformance suites (test/conformance/) against the docker
// drivers on the test dockerd, the same suites the fakes pass. Programs are
// busybox shell; a missing image is pulled from a registry stub on loopback
// in the test's namespace that knows no image (dockerd shares that
// namespace, and loopback registries are plain HTTP to it).

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "conformance/cii_conformance.h"
#include "conformance/cri_conformance.h"
#include "lastbackend/runtime/factory.h"
#include "support/docker_rig.h"
#include "support/process.h"

namespace lb::conformance {
namespace {

constexpr const char* kImage = "lb/busybox:local";  // scripts/busybox-image.sh

// What an unusable rig means: a skip off CI without root, else a failure.
class DockerRig {
 public:
  bool maySkip() { return lb::testing::dockerRigMaySkip(); }

 protected:
  // Why the rig or the driver `open` opens into *out is unusable, or "".
  template <typename T, typename Open>
  static std::string connect(std::unique_ptr<T>* out, Open open) {
    if (std::string p = lb::testing::dockerRigProblem(); !p.empty()) return p;
    auto r = open();
    if (!r.isOk()) return r.status().message();
    *out = std::move(*r);
    return "";
  }
};

lb::testing::Outcome ip(std::vector<std::string> args) {
  static const std::string dir = lb::testing::makeTempDir("lb-rig-ip-");
  args.insert(args.begin(), "/usr/sbin/ip");
  return lb::testing::runProcess(args, {}, dir, "ip", std::chrono::seconds(30));
}

class DockerCriBackend : public DockerRig {
 public:
  std::string problem() {
    return connect(&cri_, [] { return runtime::cri::open({}); });
  }
  runtime::cri::ContainerRuntime& cri() { return *cri_; }
  std::string image() { return kImage; }
  // sh as PID 1 ignores SIGTERM unless trapped; `wait` is interrupted by
  // the trap at once (a foreground sleep would delay it).
  void program(runtime::cri::ContainerSpec* s, const Program& p) {
    if (!p.exitCode) {
      s->command = {"/bin/sh", "-c", "trap 'exit 143' TERM; sleep 3600 & wait"};
      return;
    }
    s->command = {"/bin/sh", "-c", "printf '%s' \"$OUT\"; printf '%s' \"$ERR\" >&2; exit $CODE"};
    s->env = {{"OUT", p.out}, {"ERR", p.err}, {"CODE", std::to_string(*p.exitCode)}};
  }
  std::vector<std::string> execCommand(const std::string& out, int code) {
    return {"/bin/sh", "-c", "printf '%s' \"$0\"; exit $1", out, std::to_string(code)};
  }
  // In the rig's namespace (the test runs there), as the CNI would make it.
  std::string makeBridge(const std::string& name, const std::string& cidr) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"link", "add", name, "type", "bridge"},
                                               {"addr", "add", cidr, "dev", name},
                                               {"link", "set", name, "up"}}) {
      auto r = ip(args);
      if (r.code != 0) return "ip " + args[0] + " " + args[1] + " " + name + ": " + r.err;
    }
    return "";
  }
  void dropBridge(const std::string& name) { (void)ip({"link", "del", name}); }

 private:
  std::unique_ptr<runtime::cri::ContainerRuntime> cri_;
};

// A registry that answers every manifest with MANIFEST_UNKNOWN. One
// connection at a time is plenty for one pull; stop() returns within the
// poll interval.
class EmptyRegistry {
 public:
  EmptyRegistry() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 8) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~EmptyRegistry() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      answer(c);
      ::close(c);
    }
  }
  static void answer(int c) {
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req;
    char buf[2048];
    ssize_t n;
    // A TLS hello (0x16) gets its answer at once: dockerd then falls back to HTTP.
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536 &&
           (req.empty() || req[0] != '\x16') && (n = ::recv(c, buf, sizeof buf, 0)) > 0)
      req.append(buf, size_t(n));
    const bool head = req.rfind("HEAD ", 0) == 0;
    std::string
        status = "404 Not Found",
        body =
            R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})";
    if (req.rfind("GET /v2/ ", 0) == 0) {
      status = "200 OK";
      body = "{}";
    } else if (req.find(" /v2/") == std::string::npos) {
      status = "400 Bad Request";
      body = "{}";
    }
    std::string resp = "HTTP/1.1 " + status +
                       "\r\nContent-Type: application/json\r\n"
                       "Docker-Distribution-API-Version: registry/2.0\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                       (head ? "" : body);
    (void)::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class DockerCiiBackend : public DockerRig {
 public:
  std::string problem() {
    if (std::string p = connect(&images_, [] { return runtime::cii::open({}); }); !p.empty())
      return p;
    registry_ = std::make_unique<EmptyRegistry>();
    if (registry_->port() == 0) return "the registry stub could not listen";
    return "";
  }
  runtime::cii::ImageRuntime& images() { return *images_; }
  std::string image() { return kImage; }
  std::string missingRef() {
    return "127.0.0.1:" + std::to_string(registry_->port()) + "/lb/conformance-missing:1";
  }

 private:
  std::unique_ptr<runtime::cii::ImageRuntime> images_;
  std::unique_ptr<EmptyRegistry> registry_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Docker, CriConformance, DockerCriBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Docker, CiiConformance, DockerCiiBackend);

}  // namespace
}  // namespace lb::conformance
