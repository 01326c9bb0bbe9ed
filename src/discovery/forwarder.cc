#include "discovery/forwarder.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <unordered_map>

#include "discovery/answer_cache.h"
#include "lastbackend/common/logging.h"

namespace lb::discovery {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kHeader = KNOT_WIRE_HEADER_SIZE;
constexpr uint16_t kUpstreamPayload = 1232;

void put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xff));
}

// The question with our id, RD, and an OPT offering kUpstreamPayload.
std::string upstreamQuery(const ForwardRequest& r, uint16_t id) {
  std::string q;
  put16(q, id);
  q.push_back(0x01);  // RD
  q.push_back(0x00);
  put16(q, 1);  // QDCOUNT
  put16(q, 0);
  put16(q, 0);
  put16(q, 1);  // ARCOUNT: OPT
  q += r.lower;
  put16(q, r.type);
  put16(q, r.cls);
  q.push_back(0);  // OPT: root owner
  put16(q, KNOT_RRTYPE_OPT);
  put16(q, kUpstreamPayload);
  q.append(6, '\0');  // ext-rcode, version, flags, rdlength
  return q;
}

// SERVFAIL with the question as the client asked it.
size_t servfail(const ForwardRequest& r, uint8_t* out) {
  std::memset(out, 0, kHeader);
  knot_wire_set_id(out, r.id);
  knot_wire_set_qr(out);
  knot_wire_set_rd(out);
  knot_wire_set_ra(out);
  knot_wire_set_rcode(out, KNOT_RCODE_SERVFAIL);
  knot_wire_set_qdcount(out, 1);
  std::memcpy(out + kHeader, r.asked.data(), r.asked.size());
  size_t n = kHeader + r.asked.size();
  knot_wire_write_u16(out + n, r.type);
  knot_wire_write_u16(out + n + 2, r.cls);
  return n + 4;
}

}  // namespace

std::string Upstream::toString() const {
  return (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" +
         std::to_string(port);
}

StatusOr<Upstream> parseUpstream(const std::string& text) {
  Upstream u;
  std::string host = text, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return invalidArgument("'" + text + "': no ']'", "resolver");
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return invalidArgument("'" + text + "': bad port", "resolver");
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec)
    return invalidArgument("resolver '" + text + "' is not an IP address [and :port]", "resolver");
  u.address = addr.to_string();
  if (!port.empty()) {
    int p = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || p > 65535) return invalidArgument("'" + text + "': bad port", "resolver");
      p = p * 10 + (c - '0');
    }
    if (p <= 0 || p > 65535) return invalidArgument("'" + text + "': bad port", "resolver");
    u.port = static_cast<uint16_t>(p);
  }
  return u;
}

std::vector<std::string> resolvConfServers(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (words >> key >> value && key == "nameserver") out.push_back(value);
  }
  return out;
}

class Forwarder::Impl {
 public:
  Impl(asio::io_context& io, ForwarderOptions options)
      : io_(io),
        options_(std::move(options)),
        cache_(options_.cacheEntries, options_.maxTtl),
        timer_(io),
        rng_(std::random_device{}()) {}

  Status open() {
    for (const auto& u : options_.upstreams) {
      udp::endpoint ep(asio::ip::make_address(u.address), u.port);
      auto s = std::make_unique<Socket>(io_);
      boost::system::error_code ec;
      s->socket.open(ep.protocol(), ec);
      if (!ec) s->socket.connect(ep, ec);
      if (ec) {
        spdlog::warn("discovery: resolver {}: {}", u.toString(), ec.message());
        continue;
      }
      s->index = sockets_.size();
      sockets_.push_back(std::move(s));
      receive(*sockets_.back());
    }
    if (sockets_.empty()) return Status(Code::kUnavailable, "no resolver could be opened");
    return Status::ok();
  }

  void resolve(const ForwardRequest& req, const Reply& reply) {
    const Clock::time_point now = Clock::now();
    if (size_t n = cache_.fetch(req, now, buf_)) {
      ++stats_.cacheHits;
      reply(buf_, n);
      return;
    }
    const std::string key = questionKey(req);
    if (auto it = inflight_.find(key); it != inflight_.end()) {
      Pending& p = pending_.at(it->second);
      if (p.waiters.size() < options_.maxWaiters) {
        p.waiters.push_back({req, reply});
        return;
      }
    }
    if (pending_.size() >= options_.maxPending) return fail(req, reply);
    uint16_t id = 0;
    do id = static_cast<uint16_t>(rng_()); while (pending_.count(id));
    Pending& p = pending_[id];
    p.key = key;
    p.question = req;
    p.waiters.push_back({req, reply});
    inflight_[key] = id;
    ++stats_.forwarded;
    send(id, p, now);
    arm();
  }

  ForwarderStats stats() const {
    ForwarderStats s = stats_;
    s.cached = cache_.size();
    return s;
  }

 private:
  struct Socket {
    explicit Socket(asio::io_context& io) : socket(io) {}
    udp::socket socket;
    size_t index = 0;
    uint8_t rx[kMaxMessage];
  };
  struct Waiter {
    ForwardRequest request;
    Reply reply;
  };
  struct Pending {
    std::string key;
    ForwardRequest question;
    std::vector<Waiter> waiters;
    size_t upstream = 0;  // socket asked last
    size_t tries = 0;
    Clock::time_point deadline;
  };

  void send(uint16_t id, Pending& p, Clock::time_point now) {
    p.upstream = (p.tries) % sockets_.size();
    ++p.tries;
    p.deadline = now + options_.timeout;
    const std::string q = upstreamQuery(p.question, id);
    boost::system::error_code ec;
    sockets_[p.upstream]->socket.send(asio::buffer(q), 0, ec);  // UDP: never blocks long
    if (ec) spdlog::debug("discovery: resolver {}: {}", options_.upstreams[p.upstream].toString(),
                          ec.message());
  }

  void receive(Socket& s) {
    s.socket.async_receive(asio::buffer(s.rx), [this, &s](boost::system::error_code ec, size_t n) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) onAnswer(s, n);
      receive(s);
    });
  }

  void onAnswer(Socket& s, size_t n) {
    if (n < kHeader) return;
    auto it = pending_.find(knot_wire_get_id(s.rx));
    if (it == pending_.end() || it->second.upstream != s.index) return;
    Pending& p = it->second;
    const std::string& name = p.question.lower;
    // The question must be ours, in any case (0x20 is not used, so compare lower).
    if (n < kHeader + name.size() + 4 || knot_wire_get_qdcount(s.rx) != 1) return;
    uint8_t asked[KNOT_DNAME_MAXLEN];
    std::memcpy(asked, s.rx + kHeader, name.size());
    if (knot_dname_wire_check(asked, asked + name.size(), nullptr) != static_cast<int>(name.size()))
      return;
    knot_dname_to_lower(asked);
    if (std::memcmp(asked, name.data(), name.size()) != 0 ||
        knot_wire_read_u16(s.rx + kHeader + name.size()) != p.question.type ||
        knot_wire_read_u16(s.rx + kHeader + name.size() + 2) != p.question.cls)
      return;
    auto answer = readUpstreamAnswer(s.rx, n);
    if (!answer.isOk()) {
      spdlog::debug("discovery: resolver {}: {}", options_.upstreams[s.index].toString(),
                    answer.status().message());
      return;
    }
    Pending done = std::move(p);
    pending_.erase(it);
    inflight_.erase(done.key);
    for (const Waiter& w : done.waiters) w.reply(buf_, adaptAnswer(*answer, w.request, 0, buf_));
    cache_.store(done.question, std::move(*answer), Clock::now());
  }

  void fail(const ForwardRequest& req, const Reply& reply) {
    ++stats_.failed;
    reply(buf_, servfail(req, buf_));
  }

  // One timer for every question in flight: a try that timed out goes to
  // the next upstream, twice around the list, then SERVFAIL.
  void arm() {
    if (armed_ || pending_.empty()) return;
    armed_ = true;
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([this](boost::system::error_code ec) {
      armed_ = false;
      if (ec) return;
      const Clock::time_point now = Clock::now();
      for (auto it = pending_.begin(); it != pending_.end();) {
        Pending& p = it->second;
        if (now < p.deadline) {
          ++it;
          continue;
        }
        if (p.tries < 2 * sockets_.size()) {
          send(it->first, p, now);
          ++it;
          continue;
        }
        Pending done = std::move(p);
        inflight_.erase(done.key);
        it = pending_.erase(it);
        for (const Waiter& w : done.waiters) fail(w.request, w.reply);
      }
      arm();
    });
  }

  asio::io_context& io_;
  const ForwarderOptions options_;
  AnswerCache cache_;
  asio::steady_timer timer_;
  bool armed_ = false;
  std::mt19937 rng_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::unordered_map<uint16_t, Pending> pending_;
  std::unordered_map<std::string, uint16_t> inflight_;
  ForwarderStats stats_;
  uint8_t buf_[kMaxMessage];
};

StatusOr<std::unique_ptr<Forwarder>> Forwarder::create(asio::io_context& io,
                                                       ForwarderOptions options) {
  auto impl = std::make_unique<Impl>(io, std::move(options));
  LB_RETURN_IF_ERROR(impl->open());
  return std::unique_ptr<Forwarder>(new Forwarder(std::move(impl)));
}

Forwarder::Forwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Forwarder::~Forwarder() = default;

void Forwarder::resolve(const ForwardRequest& request, Reply reply) {
  impl_->resolve(request, reply);
}

ForwarderStats Forwarder::stats() const { return impl_->stats(); }

}  // namespace lb::discovery
