#pragma once

// Test helpers for the discovery tests: raw DNS messages over UDP and TCP
// to a loopback port, and a Knot DNS server (knotd) the test starts as the
// only upstream resolver.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "support/process.h"

namespace lb::testing {

using Bytes = std::vector<uint8_t>;

// A query: id, flags (RD by default), one question, optionally an OPT.
inline Bytes dnsQuery(const std::string& name, uint16_t type, uint16_t cls = 1, uint16_t id = 0x1234,
                      std::optional<uint16_t> payload = std::nullopt, uint8_t flags1 = 0x01) {
  Bytes q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), flags1, 0, 0, 1, 0, 0, 0, 0,
             0, static_cast<uint8_t>(payload ? 1 : 0)};
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (i > start) {
        q.push_back(static_cast<uint8_t>(i - start));
        q.insert(q.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(i));
      }
      start = i + 1;
    }
  }
  q.push_back(0);
  for (uint16_t v : {type, cls}) {
    q.push_back(static_cast<uint8_t>(v >> 8));
    q.push_back(static_cast<uint8_t>(v));
  }
  if (payload) {
    const Bytes opt = {0, 0, 41, static_cast<uint8_t>(*payload >> 8), static_cast<uint8_t>(*payload),
                       0, 0, 0, 0, 0, 0};
    q.insert(q.end(), opt.begin(), opt.end());
  }
  return q;
}

inline uint8_t rcodeOf(const Bytes& a) { return a.size() >= 4 ? a[3] & 0x0f : 0xff; }
inline uint16_t countOf(const Bytes& a, int section) {  // 0 qd, 1 an, 2 ns, 3 ar
  const size_t at = 4 + 2 * static_cast<size_t>(section);
  return a.size() >= at + 2 ? static_cast<uint16_t>((a[at] << 8) | a[at + 1]) : 0;
}
inline bool tcOf(const Bytes& a) { return a.size() >= 3 && (a[2] & 0x02); }

inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// One UDP exchange; nullopt when nothing comes back within `wait`.
inline std::optional<Bytes> udpAsk(uint16_t port, const Bytes& query,
                                   std::chrono::milliseconds wait = std::chrono::milliseconds(500)) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a = loopback(port);
  ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  pollfd p{fd, POLLIN, 0};
  std::optional<Bytes> out;
  if (::poll(&p, 1, static_cast<int>(wait.count())) == 1) {
    Bytes buf(65535);
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      out = std::move(buf);
    }
  }
  ::close(fd);
  return out;
}

// Several queries written at once on one TCP connection; the answers read.
inline std::vector<Bytes> tcpAsk(uint16_t port, const std::vector<Bytes>& queries) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(port);
  std::vector<Bytes> out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return out;
  }
  Bytes all;
  for (const auto& q : queries) {
    all.push_back(static_cast<uint8_t>(q.size() >> 8));
    all.push_back(static_cast<uint8_t>(q.size()));
    all.insert(all.end(), q.begin(), q.end());
  }
  ::send(fd, all.data(), all.size(), MSG_NOSIGNAL);
  Bytes rx;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (out.size() < queries.size() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) != 1) continue;
    uint8_t buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    rx.insert(rx.end(), buf, buf + n);
    while (rx.size() >= 2) {
      size_t len = (size_t{rx[0]} << 8) | rx[1];
      if (rx.size() < len + 2) break;
      out.emplace_back(rx.begin() + 2, rx.begin() + 2 + static_cast<long>(len));
      rx.erase(rx.begin(), rx.begin() + 2 + static_cast<long>(len));
    }
  }
  ::close(fd);
  return out;
}

// knotd serving `zones` (name → zone file text) on 127.0.0.1:port. Skips
// (empty pid) when knotd is not installed.
class Knot {
 public:
  static constexpr const char* kBinary = "/usr/sbin/knotd";
  bool start(const std::filesystem::path& dir, const std::vector<std::pair<std::string, std::string>>& zones) {
    if (!std::filesystem::exists(kBinary)) return false;
    dir_ = dir;
    std::filesystem::create_directories(dir);
    port_ = freeLoopbackPort();
    std::ofstream conf(dir / "knot.conf");
    conf << "server:\n  listen: 127.0.0.1@" << port_ << "\n  rundir: " << dir.string()
         << "\n  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n"
         << "control:\n  listen: " << (dir / "knot.sock").string() << "\n"
         << "database:\n  storage: " << dir.string() << "\n"
         << "log:\n  - target: stderr\n    any: warning\n"
         << "template:\n  - id: default\n    storage: " << dir.string() << "\n    semantic-checks: off\n"
         << "zone:\n";
    for (const auto& [name, text] : zones) {
      std::ofstream(dir / (name + ".zone")) << text;
      conf << "  - domain: " << name << "\n    file: " << (dir / (name + ".zone")).string() << "\n";
    }
    conf.close();
    pid_ = spawnProcess({kBinary, "-c", (dir / "knot.conf").string()}, {}, dir / "knot.log",
                        dir / "knot.log");
    return pid_ > 0;
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      waitExit(pid_, std::chrono::seconds(5));
      pid_ = -1;
    }
  }
  ~Knot() { stop(); }
  uint16_t port() const { return port_; }
  std::string log() const { return readFile(dir_ / "knot.log"); }

 private:
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace lb::testing
