// The controller: an election thread and a loop thread. The loop thread
// runs the core (core.h: the cache fed by the store watch, the work queue,
// the batch of compare-and-swap writes) and, through it, the reconcile
// loops (loops/): services and deployments, pods and scheduling,
// endpoints, routes, nodes, IPAM.

#include "controller/controller.h"

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "controller/core.h"
#include "controller/election.h"
#include "controller/ipam.h"
#include "controller/loops/registry.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"

namespace lb::controller {

namespace {

// The longest an idle controller sleeps between passes (nothing due, no
// watch event): its wake-ups stay at one a second or fewer.
constexpr std::chrono::milliseconds kMaxIdleWait{1'000};

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || !buf[0]) return "controller";
  std::string out;
  for (char c : std::string(buf)) out += (c == ':' || c == '/' || c == ' ') ? '-' : c;
  return out;
}

// The pod range: a range of blocks, apart from the services' addresses.
Status checkPodsCidr(const Options& options) {
  auto pods = Ipam::createBlocks(options.podsCidr, options.nodeSubnetSize);
  if (!pods.isOk())
    return pods.status().withContext(pods.status().field() == "nodeSubnetSize"
                                         ? "--node-subnet-size (node.subnet_size)"
                                         : "--pods-cidr (pods.cidr)");
  // Both parse: the services CIDR was checked first.
  auto p = parseIpv4Prefix(options.podsCidr, "pods CIDR");
  auto s = parseIpv4Prefix(options.servicesCidr, "services CIDR");
  if (p.isOk() && s.isOk() && p->overlaps(*s))
    return invalidArgument("pods CIDR " + options.podsCidr +
                               " (--pods-cidr, pods.cidr) overlaps services CIDR " +
                               options.servicesCidr + " (--services-cidr, service.cidr)",
                           "podsCidr");
  return Status::ok();
}

}  // namespace

class Controller::Impl {
 public:
  Impl(std::shared_ptr<storage::Storage> store, Options opt, Ipam ipam)
      : store_(std::move(store)),
        opt_(std::move(opt)),
        elector_(*store_, *opt_.clock, opt_.id, opt_.leaseTtl),
        core_(store_, opt_, elector_, std::move(ipam), loops::makeLoops) {}

  void start() {
    std::lock_guard lock(threadMu_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    electionThread_ = std::thread([this] { electionLoop(); });
    loopThread_ = std::thread([this] { loop(); });
  }

  void stop(bool release) {
    {
      std::lock_guard lock(threadMu_);
      if (!running_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    if (electionThread_.joinable()) electionThread_.join();
    if (loopThread_.joinable()) loopThread_.join();
    if (release) elector_.release();
    std::lock_guard lock(threadMu_);
    running_ = false;
  }

  bool electionTick() {
    auto r = elector_.tick();
    if (!r.isOk()) spdlog::warn("{}", r.status().message());
    return elector_.isLeader();
  }

  bool isLeader() const { return elector_.isLeader(); }

  Stats stats() const {
    Stats s = core_.stats();
    s.leader = elector_.isLeader();
    return s;
  }

  Status runOnce(std::chrono::milliseconds wait, size_t maxKeys) {
    return core_.runOnce(wait, maxKeys);
  }
  void resyncNow() { core_.resyncNow(); }

 private:
  void electionLoop() {
    while (true) {
      auto r = elector_.tick();
      if (!r.isOk()) spdlog::warn("{}", r.status().message());
      std::unique_lock lock(threadMu_);
      if (elector_.isLeader()) wake_.notify_all();  // the loop waits for leadership
      if (wake_.wait_for(lock, elector_.nextDelay(), [&] { return stopping_; })) return;
    }
  }

  void loop() {
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      {
        std::lock_guard lock(threadMu_);
        if (stopping_) break;
      }
      if (!elector_.isLeader()) {
        if (core_.synced()) core_.dropCache();
        std::unique_lock lock(threadMu_);
        wake_.wait_for(lock, kMaxIdleWait, [&] { return stopping_ || elector_.isLeader(); });
        continue;
      }
      // Idle, the pass sleeps in the watch until an event or whatever is due next.
      Status s = core_.runOnce(core_.idleWait(kMaxIdleWait), 20'000);
      if (!s.isOk()) {
        spdlog::warn("controller loop: {}; retrying in {} ms", s.message(), backoff.count());
        std::unique_lock lock(threadMu_);
        wake_.wait_for(lock, backoff, [&] { return stopping_; });
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5'000));
      } else {
        backoff = std::chrono::milliseconds(100);
      }
    }
  }

  std::shared_ptr<storage::Storage> store_;
  Options opt_;
  Elector elector_;
  Core core_;

  std::mutex threadMu_;
  std::condition_variable wake_;
  bool running_ = false;
  bool stopping_ = false;
  std::thread electionThread_, loopThread_;
};

StatusOr<std::unique_ptr<Controller>> Controller::create(std::shared_ptr<storage::Storage> store,
                                                         Options options) {
  auto ipam = Ipam::create(options.servicesCidr);
  if (!ipam.isOk()) return ipam.status();
  Status pods = checkPodsCidr(options);
  if (!pods.isOk()) return pods;
  if (options.id.empty()) options.id = hostName();
  if (!storage::keys::validateSegment(options.id, "controller id").isOk() || options.id == "lead")
    return invalidArgument("controller id '" + options.id + "' is not a valid key segment", "id");
  if (options.leaseTtl < std::chrono::milliseconds(30))
    return invalidArgument("lease TTL must be at least 30 ms", "leaseTtl");
  auto impl = std::make_unique<Impl>(std::move(store), std::move(options), std::move(*ipam));
  return std::unique_ptr<Controller>(new Controller(std::move(impl)));
}

Controller::Controller(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Controller::~Controller() { impl_->stop(true); }
void Controller::start() { impl_->start(); }
void Controller::stop(bool release) { impl_->stop(release); }
bool Controller::electionTick() { return impl_->electionTick(); }
Status Controller::runOnce(std::chrono::milliseconds wait, size_t maxKeys) {
  return impl_->runOnce(wait, maxKeys);
}
bool Controller::isLeader() const { return impl_->isLeader(); }
void Controller::resyncNow() { impl_->resyncNow(); }
Stats Controller::stats() const { return impl_->stats(); }

}  // namespace lb::controller
