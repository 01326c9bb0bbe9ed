// The nftables CPI with real traffic, all of it inside two network
// namespaces this test makes: "host" (where the driver programs its table;
// backends on its lo, 10.250.0.1 and .2) and "pod" (10.250.1.2 behind a
// veth, host side 10.250.1.1). Only the VIP range is routed, nothing else:
// no default route anywhere. Servers are threads whose sockets were
// made inside a namespace.
//
// A refusal is checked as "fails with ECONNREFUSED"; the generous timeouts
// here are only how a missing refusal shows up (ETIMEDOUT), never a speed
// the test relies on.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lastbackend/runtime/factory.h"
#include "support/endpoints.h"
#include "support/netns.h"

namespace lb {
namespace {

using testing::makeEndpoint;
using testing::Netns;
using testing::tcpPort;
using testing::udpPort;

constexpr int kWaitMs = 5000;  // only how a missing answer shows up

sockaddr_in address(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

// A socket made inside `ns`; -1 when it could not be.
int socketIn(const Netns& ns, int type) {
  int fd = -1;
  if (!ns.run([&] { fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0); })) return -1;
  return fd;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, kWaitMs) == 1;
}

// Answers each connection with "<name> <peer ip>\n", then echoes what comes
// until the peer closes (a thread per connection). UDP: answers each
// datagram with "<name>".
class Server {
 public:
  Server(const Netns& ns, int type, const std::string& ip, int port, std::string name)
      : name_(std::move(name)), udp_(type == SOCK_DGRAM) {
    fd_ = socketIn(ns, type);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = address(ip, port);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
          (udp_ || ::listen(fd_, 16) == 0);
    if (ok_) thread_ = std::thread([this] { udp_ ? serveUdp() : serveTcp(); });
  }
  ~Server() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& t : connections_) t.join();
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  bool wait(int fd) {
    pollfd p{fd, POLLIN, 0};
    while (!stop_) {
      if (::poll(&p, 1, 50) == 1) return true;
    }
    return false;
  }
  void serveTcp() {
    while (wait(fd_)) {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      int c = ::accept(fd_, reinterpret_cast<sockaddr*>(&peer), &len);
      if (c < 0) continue;
      char from[INET_ADDRSTRLEN] = "";
      ::inet_ntop(AF_INET, &peer.sin_addr, from, sizeof from);
      std::string hello = name_ + " " + from + "\n";
      connections_.emplace_back([this, c, hello] {
        (void)!::write(c, hello.data(), hello.size());
        char buf[256];
        ssize_t n;
        while (wait(c) && (n = ::read(c, buf, sizeof buf)) > 0) (void)!::write(c, buf, n);
        ::close(c);
      });
    }
  }
  void serveUdp() {
    while (wait(fd_)) {
      char buf[256];
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      if (::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len) < 0)
        continue;
      ::sendto(fd_, name_.data(), name_.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
    }
  }

  std::string name_;
  bool udp_;
  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;  // only the accept thread adds
};

// A TCP connection from inside `ns`: error() is 0 once connected, else the
// errno of the attempt (ETIMEDOUT when nothing answered at all).
class Client {
 public:
  Client(const Netns& ns, const std::string& ip, int port) {
    fd_ = socketIn(ns, SOCK_STREAM | SOCK_NONBLOCK);
    if (fd_ < 0) {
      error_ = EBADF;
      return;
    }
    auto a = address(ip, port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return;
    if (errno != EINPROGRESS) {
      error_ = errno;
      return;
    }
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, kWaitMs) != 1) {
      error_ = ETIMEDOUT;
      return;
    }
    socklen_t len = sizeof error_;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error_, &len);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  int error() const { return error_; }

  // The next line the server sends ("" on none).
  std::string line() {
    std::string out;
    char c;
    while (readable(fd_) && ::read(fd_, &c, 1) == 1 && c != '\n') out += c;
    return out;
  }
  std::string echo(const std::string& text) {
    std::string msg = text + "\n";
    if (::write(fd_, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) return "";
    return line();
  }

 private:
  int fd_ = -1;
  int error_ = 0;
};

// One datagram to ip:port from a connected UDP socket made in `ns` and kept
// (so later datagrams are the same flow); the answer, or "errno <n>".
class UdpClient {
 public:
  UdpClient(const Netns& ns, const std::string& ip, int port) {
    fd_ = socketIn(ns, SOCK_DGRAM);
    auto a = address(ip, port);
    if (fd_ >= 0) ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ~UdpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  std::string ask() {
    if (::send(fd_, "?", 1, 0) != 1) return "errno " + std::to_string(errno);
    if (!readable(fd_)) return "errno " + std::to_string(ETIMEDOUT);
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? "errno " + std::to_string(errno) : std::string(buf, n);
  }

 private:
  int fd_ = -1;
};

std::string firstWord(const std::string& s) { return s.substr(0, s.find(' ')); }

class NftablesTraffic : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = testing::netnsProblem();
    if (problem.empty()) {
      host_ = std::make_unique<Netns>("cpih");
      pod_ = std::make_unique<Netns>("cpip");
      problem = !host_->ok() ? host_->error() : !pod_->ok() ? pod_->error() : "";
    }
    if (!problem.empty()) {
      if (testing::netnsMaySkip()) GTEST_SKIP() << problem;
      FAIL() << problem;
    }
    const std::string podNs = pod_->name();
    const std::vector<std::vector<std::string>> hostSetup = {
        {"addr", "add", "10.250.0.1/32", "dev", "lo"},
        {"addr", "add", "10.250.0.2/32", "dev", "lo"},
        // The host's own connections need a route to the VIPs; one into lo
        // keeps whatever is not DNATed inside.
        {"route", "add", "10.96.0.0/24", "dev", "lo"},
        {"link", "add", "vh0", "type", "veth", "peer", "name", "vp0", "netns", podNs},
        {"addr", "add", "10.250.1.1/24", "dev", "vh0"},
        {"link", "set", "vh0", "up"},
    };
    for (const auto& args : hostSetup) {
      auto r = host_->ip(args);
      ASSERT_EQ(r.code, 0) << "ip " << args[0] << " " << args[1] << ": " << r.err;
    }
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"addr", "add", "10.250.1.2/24", "dev", "vp0"},
             {"link", "set", "vp0", "up"},
             {"route", "add", "10.96.0.0/24", "via", "10.250.1.1"}}) {
      auto r = pod_->ip(args);
      ASSERT_EQ(r.code, 0) << "ip " << args[0] << ": " << r.err;
    }
    auto fwd = host_->exec({"/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=1"});
    ASSERT_EQ(fwd.code, 0) << fwd.err;
    open();
  }

  void open() {
    proxy_.reset();
    StatusOr<std::unique_ptr<runtime::cpi::ProxyRuntime>> opened = internalError("not run");
    ASSERT_TRUE(host_->run([&] { opened = runtime::cpi::open({"nftables"}); }));
    ASSERT_TRUE(opened.isOk()) << opened.status().message();
    proxy_ = std::move(*opened);
  }

  runtime::cpi::EndpointState create(const types::Endpoint& e) {
    auto s = proxy_->create(e);
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s.isOk() ? *s : runtime::cpi::EndpointState{};
  }

  // Who answers a new connection to ip:port from `ns` ("" when none).
  std::string who(const Netns& ns, const std::string& ip, int port) {
    Client c(ns, ip, port);
    return c.error() ? "" : c.line();
  }

  // `nft -j list table ip lastbackend`, in the host namespace.
  nlohmann::json listing() {
    auto r = host_->exec({"/usr/sbin/nft", "-j", "list", "table", "ip", "lastbackend"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // "kind chain handle" of every rule and chain of the table.
  std::vector<std::string> handles(const std::string& chain = "") {
    std::vector<std::string> out;
    auto j = listing();
    if (!j.contains("nftables")) return out;
    for (const auto& item : j["nftables"]) {
      for (const char* kind : {"rule", "chain"}) {
        if (!item.contains(kind)) continue;
        const auto& o = item[kind];
        std::string of = o.value(kind == std::string("rule") ? "chain" : "name", "");
        if (chain.empty() || of == chain)
          out.push_back(std::string(kind) + " " + of + " " + std::to_string(o.value("handle", 0)));
      }
    }
    return out;
  }

  std::unique_ptr<Netns> host_, pod_;
  std::unique_ptr<runtime::cpi::ProxyRuntime> proxy_;
};

TEST_F(NftablesTraffic, HostProcessesAndPodsReachTheVip) {
  Server b1(*host_, SOCK_STREAM, "10.250.0.1", 8080, "b1");
  ASSERT_TRUE(b1.ok());
  create(makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.250.0.1"}));
  // From the host (output hook) and from a pod (prerouting).
  EXPECT_EQ(who(*host_, "10.96.0.10", 80), "b1 10.250.0.1");
  EXPECT_EQ(who(*pod_, "10.96.0.10", 80), "b1 10.250.1.2");  // routed, not NATed
}

TEST_F(NftablesTraffic, RoundRobinTakesTurnsAndRandomReachesEveryPod) {
  Server b1(*host_, SOCK_STREAM, "10.250.0.1", 8080, "b1");
  Server b2(*host_, SOCK_STREAM, "10.250.0.2", 8080, "b2");
  ASSERT_TRUE(b1.ok() && b2.ok());
  auto rr =
      makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.250.0.1", "10.250.0.2"});
  auto state = create(rr);
  std::map<std::string, int> answers;
  for (int i = 0; i < 4; ++i) ++answers[firstWord(who(*host_, "10.96.0.10", 80))];
  EXPECT_EQ(answers, (std::map<std::string, int>{{"b1", 2}, {"b2", 2}}));
  auto random = rr;
  random.spec.policy = runtime::cpi::kPolicyRandom;
  ASSERT_TRUE(proxy_->update(state, random).isOk());
  answers.clear();
  for (int i = 0; i < 40; ++i) ++answers[firstWord(who(*host_, "10.96.0.10", 80))];
  EXPECT_EQ(answers.size(), 2u);  // both, 2^-39 odds otherwise
  EXPECT_EQ(answers["b1"] + answers["b2"], 40);
}

TEST_F(NftablesTraffic, NoReadyPodIsRefusedNotSilent) {
  Server b1(*host_, SOCK_STREAM, "10.250.0.1", 8080, "b1");
  ASSERT_TRUE(b1.ok());
  create(makeEndpoint("demo", "none", "10.96.0.20", {tcpPort(80, 8080), udpPort(53, 53)}, {}));
  create(makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.250.0.1"}));
  EXPECT_EQ(Client(*host_, "10.96.0.20", 80).error(), ECONNREFUSED);
  EXPECT_EQ(Client(*pod_, "10.96.0.20", 80).error(), ECONNREFUSED);
  EXPECT_EQ(UdpClient(*pod_, "10.96.0.20", 53).ask(), "errno " + std::to_string(ECONNREFUSED));
  // A port the service does not have, on a VIP that has pods: refused too.
  EXPECT_EQ(Client(*pod_, "10.96.0.10", 81).error(), ECONNREFUSED);
  EXPECT_EQ(who(*pod_, "10.96.0.10", 80), "b1 10.250.1.2");
}

TEST_F(NftablesTraffic, APodReachesItsOwnService) {
  Server self(*pod_, SOCK_STREAM, "10.250.1.2", 8080, "pod");
  ASSERT_TRUE(self.ok());
  create(makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.250.1.2"}));
  // Hairpin: the pod sees the connection come from the host side, so its
  // answer goes back through the host and is un-NATed there.
  EXPECT_EQ(who(*pod_, "10.96.0.10", 80), "pod 10.250.1.1");
}

TEST_F(NftablesTraffic, UdpFlowsOfARemovedPodMoveOn) {
  Server b1(*host_, SOCK_DGRAM, "10.250.0.1", 5353, "b1");
  Server b2(*host_, SOCK_DGRAM, "10.250.0.2", 5353, "b2");
  ASSERT_TRUE(b1.ok() && b2.ok());
  auto dns = makeEndpoint("demo", "dns", "10.96.0.53", {udpPort(53, 5353)}, {"10.250.0.1"});
  auto state = create(dns);
  UdpClient flow(*pod_, "10.96.0.53", 53);
  ASSERT_EQ(flow.ask(), "b1");
  ASSERT_EQ(flow.ask(), "b1");
  auto moved = makeEndpoint("demo", "dns", "10.96.0.53", {udpPort(53, 5353)}, {"10.250.0.2"});
  ASSERT_TRUE(proxy_->update(state, moved).isOk());
  // The same flow (same socket, same ports): its conntrack entry was
  // deleted with b1, so it is placed again.
  EXPECT_EQ(flow.ask(), "b2");
}

TEST_F(NftablesTraffic, AChangeTouchesOnlyItsEndpoint) {
  Server b1(*host_, SOCK_STREAM, "10.250.0.1", 8080, "b1");
  Server b2(*host_, SOCK_STREAM, "10.250.0.2", 8080, "b2");
  ASSERT_TRUE(b1.ok() && b2.ok());
  auto web = create(makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.250.0.1"}));
  create(makeEndpoint("demo", "db", "10.96.0.11", {tcpPort(80, 8080)}, {"10.250.0.2"}));
  Client held(*pod_, "10.96.0.11", 80);
  ASSERT_EQ(held.error(), 0);
  ASSERT_EQ(firstWord(held.line()), "b2");
  auto before = handles("ep_10_96_0_11");
  auto base = handles("prerouting");
  ASSERT_FALSE(before.empty());
  auto next = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080), tcpPort(81, 8080)},
                           {"10.250.0.1", "10.250.0.2"});
  ASSERT_TRUE(proxy_->update(web, next).isOk());
  EXPECT_EQ(handles("ep_10_96_0_11"), before);  // not rewritten
  EXPECT_EQ(handles("prerouting"), base);
  EXPECT_EQ(held.echo("still"), "still");
  EXPECT_FALSE(who(*host_, "10.96.0.10", 81).empty());
}

TEST_F(NftablesTraffic, ARestartedDriverAdoptsAndKeepsConnections) {
  Server b1(*host_, SOCK_STREAM, "10.250.0.1", 8080, "b1");
  ASSERT_TRUE(b1.ok());
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.250.0.1"});
  create(web);
  Client held(*pod_, "10.96.0.10", 80);
  ASSERT_EQ(held.error(), 0);
  ASSERT_EQ(firstWord(held.line()), "b1");
  auto before = handles();
  auto info = proxy_->info();
  ASSERT_TRUE(info.isOk());
  open();                        // the old instance is gone, a new one opens over the table
  EXPECT_EQ(handles(), before);  // nothing flushed, nothing rebuilt
  auto adopted = proxy_->info();
  ASSERT_TRUE(adopted.isOk());
  EXPECT_EQ(*adopted, *info);
  EXPECT_EQ(held.echo("ping"), "ping");
  EXPECT_EQ(who(*host_, "10.96.0.10", 80), "b1 10.250.0.1");
}

TEST_F(NftablesTraffic, WhatAHandRemovesComesBack) {
  Server b1(*host_, SOCK_STREAM, "10.250.0.1", 8080, "b1");
  ASSERT_TRUE(b1.ok());
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.250.0.1"});
  auto made = create(web);
  const std::vector<std::vector<std::string>> hands = {
      {"flush", "chain", "ip", "lastbackend", "ep_10_96_0_10"},
      {"flush", "chain", "ip", "lastbackend", "postrouting"},
      {"delete", "element", "ip", "lastbackend", "hairpin", "{ 10.250.0.1 . 10.250.0.1 }"},
      {"delete", "table", "ip", "lastbackend"},
  };
  for (const auto& hand : hands) {
    std::vector<std::string> argv{"/usr/sbin/nft"};
    argv.insert(argv.end(), hand.begin(), hand.end());
    auto r = host_->exec(argv);
    ASSERT_EQ(r.code, 0) << hand[0] << " " << hand[1] << ": " << r.err;
    auto seen = proxy_->info();
    ASSERT_TRUE(seen.isOk()) << seen.status().message();
    auto it = seen->find("demo:web");
    ASSERT_TRUE(it == seen->end() || it->second != made) << "not seen: nft " << hand[0];
    auto fixed = it == seen->end() ? proxy_->create(web) : proxy_->update(it->second, web);
    ASSERT_TRUE(fixed.isOk()) << fixed.status().message();
    auto again = proxy_->info();
    ASSERT_TRUE(again.isOk());
    EXPECT_EQ((*again)["demo:web"], made) << "after nft " << hand[0] << " " << hand[1];
    EXPECT_EQ(who(*pod_, "10.96.0.10", 80), "b1 10.250.1.2") << "after nft " << hand[0];
  }
}

// Two pods on a bridge in the host namespace, as a CNI bridge has them
// (10.250.2.2 and .3 behind 10.250.2.1): what the rest of the node must
// provide (docs/cpi.md) for pod-to-VIP traffic that stays on the bridge.
class NftablesBridge : public NftablesTraffic {
 protected:
  void SetUp() override {
    NftablesTraffic::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"link", "add", "lbbr0", "type", "bridge"},
                                               {"addr", "add", "10.250.2.1/24", "dev", "lbbr0"},
                                               {"link", "set", "lbbr0", "up"}}) {
      auto r = host_->ip(args);
      ASSERT_EQ(r.code, 0) << "ip " << args[0] << ": " << r.err;
    }
    for (int i = 0; i < 2; ++i) {
      pods_.push_back(std::make_unique<Netns>("cpib" + std::to_string(i)));
      ASSERT_TRUE(pods_.back()->ok()) << pods_.back()->error();
      const std::string port = "vb" + std::to_string(i);
      const std::string ip = "10.250.2." + std::to_string(i + 2);
      for (const auto& args : std::vector<std::vector<std::string>>{
               {"link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
                pods_.back()->name()},
               {"link", "set", port, "master", "lbbr0"},
               // What lets a pod's packet come back out of its own port.
               {"link", "set", port, "type", "bridge_slave", "hairpin", "on"},
               {"link", "set", port, "up"}}) {
        auto r = host_->ip(args);
        ASSERT_EQ(r.code, 0) << "ip " << args[0] << " " << args[3] << ": " << r.err;
      }
      for (const auto& args : std::vector<std::vector<std::string>>{
               {"addr", "add", ip + "/24", "dev", "eth0"},
               {"link", "set", "eth0", "up"},
               {"route", "add", "10.96.0.0/24", "via", "10.250.2.1"}}) {
        auto r = pods_.back()->ip(args);
        ASSERT_EQ(r.code, 0) << "ip " << args[0] << ": " << r.err;
      }
    }
  }

  std::vector<std::unique_ptr<Netns>> pods_;
};

TEST_F(NftablesBridge, PodsOnOneBridgeReachEachOtherAndThemselves) {
  Server other(*pods_[1], SOCK_STREAM, "10.250.2.3", 8080, "other");
  Server self(*pods_[0], SOCK_STREAM, "10.250.2.2", 8080, "self");
  ASSERT_TRUE(other.ok() && self.ok());
  create(makeEndpoint("demo", "other", "10.96.0.30", {tcpPort(80, 8080)}, {"10.250.2.3"}));
  create(makeEndpoint("demo", "self", "10.96.0.31", {tcpPort(80, 8080)}, {"10.250.2.2"}));
  // The answer of a pod on the same bridge goes back through the node's
  // conntrack (bridge-nf-call-iptables), so it is un-NATed; the client is
  // seen with its own address.
  EXPECT_EQ(who(*pods_[0], "10.96.0.30", 80), "other 10.250.2.2");
  // Hairpin through the bridge: masqueraded to the bridge's address.
  EXPECT_EQ(who(*pods_[0], "10.96.0.31", 80), "self 10.250.2.1");
}

}  // namespace
}  // namespace lb
