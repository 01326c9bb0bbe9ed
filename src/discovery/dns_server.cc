#include "discovery/dns_server.h"

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <future>
#include <thread>

#include "lastbackend/common/logging.h"

namespace lb::discovery {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

namespace {

constexpr int kBatch = 32;
constexpr size_t kUdpSlot = 4096;       // a UDP query or answer never exceeds this
constexpr size_t kMaxQueuedAnswers = 64;  // per TCP connection, unread by the client
constexpr int kUdpRounds = 8;           // batches per wakeup before TCP gets a turn

}  // namespace

class DnsServer::Impl {
 public:
  Impl(const Zone& zone, DnsServerOptions options)
      : options_(std::move(options)),
        responder_(zone, options_.responder),
        udp_(io_),
        acceptor_(io_) {}

  Status bind() {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(options_.host, ec);
    if (ec) return invalidArgument("bind address '" + options_.host + "' is not an IP", "host");
    const std::string where = options_.host + ":" + std::to_string(options_.port);
    udp::endpoint uep(addr, options_.port);
    udp_.open(uep.protocol(), ec);
    if (!ec) udp_.bind(uep, ec);
    if (ec) return Status(Code::kUnavailable, "cannot listen on udp " + where + ": " + ec.message());
    udp_.non_blocking(true, ec);
    const uint16_t port = udp_.local_endpoint().port();
    tcp::endpoint tep(addr, port);
    acceptor_.open(tep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(tep, ec);
    if (!ec) acceptor_.listen(128, ec);
    if (ec)
      return Status(Code::kUnavailable, "cannot listen on tcp " + options_.host + ":" +
                                            std::to_string(port) + ": " + ec.message());
    if (!options_.forwarder.upstreams.empty()) {
      auto f = Forwarder::create(io_, options_.forwarder);
      if (!f.isOk()) return f.status();
      forwarder_ = std::move(*f);
    }
    return Status::ok();
  }

  void run() {
    waitUdp();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop() {
    if (!thread_.joinable()) return;
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return udp_.local_endpoint().port(); }
  uint64_t queries() const { return queries_.load(std::memory_order_relaxed); }
  ForwarderStats forwarding() {
    if (!forwarder_) return {};
    // The forwarder lives on the serving thread; ask it there.
    std::promise<ForwarderStats> p;
    auto f = p.get_future();
    asio::post(io_, [&] { p.set_value(forwarder_->stats()); });
    return f.wait_for(std::chrono::seconds(1)) == std::future_status::ready ? f.get()
                                                                            : ForwarderStats{};
  }

 private:
  // ---- UDP -----------------------------------------------------------------
  void waitUdp() {
    udp_.async_wait(udp::socket::wait_read, [this](boost::system::error_code ec) {
      if (ec) return;
      for (int round = 0; round < kUdpRounds; ++round)
        if (serveBatch() < kBatch) break;
      waitUdp();
    });
  }

  // Reads up to kBatch queries, answers what it can at once; the count read.
  int serveBatch() {
    const int fd = udp_.native_handle();
    for (int i = 0; i < kBatch; ++i) {
      iov_[i] = {rx_[i], kUdpSlot};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
      msgs_[i].msg_hdr.msg_name = &peers_[i];
      msgs_[i].msg_hdr.msg_namelen = sizeof(peers_[i]);
    }
    const int n = ::recvmmsg(fd, msgs_, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    queries_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    int out = 0;
    for (int i = 0; i < n; ++i) {
      if (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) continue;  // larger than any query we take
      ForwardRequest fwd;
      auto r = responder_.answer(rx_[i], msgs_[i].msg_len, Transport::kUdp, tx_[i], &fwd);
      if (r.action == Responder::Action::kReply && r.size > 0 && r.size <= kUdpSlot) {
        txIov_[out] = {tx_[i], r.size};
        txMsgs_[out] = {};
        txMsgs_[out].msg_hdr.msg_iov = &txIov_[out];
        txMsgs_[out].msg_hdr.msg_iovlen = 1;
        txMsgs_[out].msg_hdr.msg_name = &peers_[i];
        txMsgs_[out].msg_hdr.msg_namelen = msgs_[i].msg_hdr.msg_namelen;
        ++out;
      } else if (r.action == Responder::Action::kForward && forwarder_) {
        sockaddr_storage peer = peers_[i];
        socklen_t len = msgs_[i].msg_hdr.msg_namelen;
        forwarder_->resolve(fwd, [fd, peer, len](const uint8_t* wire, size_t size) {
          ::sendto(fd, wire, size, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&peer), len);
        });
      }
    }
    for (int sent = 0; sent < out;) {
      const int k = ::sendmmsg(fd, txMsgs_ + sent, static_cast<unsigned>(out - sent), MSG_DONTWAIT);
      if (k <= 0) break;  // a full socket buffer drops answers, as UDP does
      sent += k;
    }
    return n;
  }

  // ---- TCP -----------------------------------------------------------------
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(Impl& server, tcp::socket socket)
        : server_(server), socket_(std::move(socket)), idle_(socket_.get_executor()) {}
    ~Session() { --server_.tcpSessions_; }

    void start() {
      touch();
      readLength();
    }

   private:
    void touch() {
      idle_.expires_after(server_.options_.tcpIdle);
      idle_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->close();
      });
    }
    void close() {
      boost::system::error_code ec;
      socket_.close(ec);
      idle_.cancel();
    }
    void readLength() {
      asio::async_read(socket_, asio::buffer(len_, 2),
                       [self = shared_from_this()](boost::system::error_code ec, size_t) {
                         if (ec) return self->close();
                         const size_t n = (size_t{self->len_[0]} << 8) | self->len_[1];
                         if (n < KNOT_WIRE_HEADER_SIZE) return self->close();
                         self->readMessage(n);
                       });
    }
    void readMessage(size_t n) {
      query_.resize(n);
      asio::async_read(socket_, asio::buffer(query_),
                       [self = shared_from_this()](boost::system::error_code ec, size_t) {
                         if (ec) return self->close();
                         self->touch();
                         self->server_.queries_.fetch_add(1, std::memory_order_relaxed);
                         self->handle();
                         self->readLength();
                       });
    }
    void handle() {
      ForwardRequest fwd;
      uint8_t* out = server_.tcpOut_;
      auto r = server_.responder_.answer(query_.data(), query_.size(), Transport::kTcp, out, &fwd);
      if (r.action == Responder::Action::kReply && r.size > 0) {
        send(out, r.size);
      } else if (r.action == Responder::Action::kForward && server_.forwarder_) {
        server_.forwarder_->resolve(
            fwd, [weak = weak_from_this()](const uint8_t* wire, size_t size) {
              if (auto self = weak.lock()) self->send(wire, size);
            });
      } else if (r.action == Responder::Action::kDrop) {
        close();
      }
    }
    void send(const uint8_t* wire, size_t size) {
      if (!socket_.is_open()) return;
      if (queue_.size() >= kMaxQueuedAnswers) return close();  // the client is not reading
      std::vector<uint8_t> msg(size + 2);
      msg[0] = static_cast<uint8_t>(size >> 8);
      msg[1] = static_cast<uint8_t>(size & 0xff);
      std::memcpy(msg.data() + 2, wire, size);
      queue_.push_back(std::move(msg));
      if (queue_.size() == 1) writeNext();
    }
    void writeNext() {
      asio::async_write(socket_, asio::buffer(queue_.front()),
                        [self = shared_from_this()](boost::system::error_code ec, size_t) {
                          if (ec) return self->close();
                          self->queue_.pop_front();
                          if (!self->queue_.empty()) self->writeNext();
                        });
    }

    Impl& server_;
    tcp::socket socket_;
    asio::steady_timer idle_;
    uint8_t len_[2];
    std::vector<uint8_t> query_;
    std::deque<std::vector<uint8_t>> queue_;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (tcpSessions_ >= options_.maxTcpConnections) {
          boost::system::error_code ignored;
          socket.close(ignored);
        } else {
          ++tcpSessions_;
          std::make_shared<Session>(*this, std::move(socket))->start();
        }
      }
      accept();
    });
  }

  const DnsServerOptions options_;
  size_t tcpSessions_ = 0;  // before io_: sessions it still holds end after it
  asio::io_context io_;
  Responder responder_;
  udp::socket udp_;
  tcp::acceptor acceptor_;
  std::unique_ptr<Forwarder> forwarder_;
  std::thread thread_;
  std::atomic<uint64_t> queries_{0};

  mmsghdr msgs_[kBatch];
  iovec iov_[kBatch];
  sockaddr_storage peers_[kBatch];
  uint8_t rx_[kBatch][kUdpSlot];
  mmsghdr txMsgs_[kBatch];
  iovec txIov_[kBatch];
  uint8_t tx_[kBatch][kMaxMessage];
  uint8_t tcpOut_[kMaxMessage];
};

StatusOr<std::unique_ptr<DnsServer>> DnsServer::start(const Zone& zone, DnsServerOptions options) {
  auto impl = std::make_unique<Impl>(zone, std::move(options));
  LB_RETURN_IF_ERROR(impl->bind());
  impl->run();
  return std::unique_ptr<DnsServer>(new DnsServer(std::move(impl)));
}

DnsServer::DnsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DnsServer::~DnsServer() { stop(); }
void DnsServer::stop() { impl_->stop(); }
uint16_t DnsServer::port() const { return impl_->port(); }
uint64_t DnsServer::queries() const { return impl_->queries(); }
ForwarderStats DnsServer::forwarding() const { return impl_->forwarding(); }

}  // namespace lb::discovery
