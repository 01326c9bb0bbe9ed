#pragma once

// The agent's unit-test fixture: the runtime fakes, a ManualClock the agent
// waits on, and pods and manifests to run. Time moves only when a test
// advances the clock (step, run, advanceUntil: each step waits until the
// threads it woke wait again); settle() waits (in real time, briefly) for
// the agent's threads to act on what they have been given.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fakes/manual_clock.h"
#include "fakes/runtime/fake_cii.h"
#include "fakes/runtime/fake_cri.h"
#include "fakes/runtime/fake_csi.h"
#include "node/agent.h"

namespace lb::node::testing {

using namespace std::chrono_literals;

inline constexpr const char* kImage = "lb/busybox:local";

// A pod of `containers` containers (c0 the network owner) with the config
// "conf" mounted and in c0's env.
inline types::Pod pod(const std::string& name, int containers = 1) {
  types::Pod p;
  p.meta.name = name;
  p.meta.namespace_ = "demo";
  p.meta.selflink = "demo:web:d1:" + name;
  for (int i = 0; i < containers; ++i) {
    types::ContainerSpec c;
    c.name = "c" + std::to_string(i);
    c.image.name = kImage;
    c.env.push_back({"GREETING", std::nullopt, std::nullopt, types::KeyRef{"conf", "greeting"}});
    p.spec.template_.containers.push_back(c);
  }
  types::TemplateVolume v;
  v.name = "conf";
  v.config = types::FilesRef{"conf", {}};
  p.spec.template_.volumes.push_back(v);
  p.spec.template_.containers[0].volumes.push_back({"conf", "/etc/conf", "", false});
  return p;
}

inline NodeManifest manifest(std::vector<types::Pod> pods, std::string greeting = "hello") {
  NodeManifest m;
  for (auto& p : pods) m.pods[p.meta.selflink] = p;
  m.configs["demo:conf"].spec.data = {{"greeting", greeting}};
  m.revision = 1;
  return m;
}

// Waits for the agent's threads (not for time: the clock stands still).
inline bool settle(const std::function<bool()>& f, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return f();
}

// `p` with the Volume "data" of its namespace mounted in c0.
inline types::Pod withVolume(types::Pod p, const std::string& volume = "data") {
  types::TemplateVolume v;
  v.name = volume;
  v.volume = types::VolumeRef{volume};
  p.spec.template_.volumes.push_back(v);
  p.spec.template_.containers[0].volumes.push_back({volume, "/data", "", false});
  return p;
}

// The manifest of pod "p1" mounting the Volume "demo:data".
inline NodeManifest volumeManifest() {
  auto m = manifest({withVolume(pod("p1"))});
  m.volumes["demo:data"].meta.selflink = "demo:data";
  return m;
}

// A TCP probe of `port` (the fake probers tell ports apart).
inline types::Probe tcpProbe(int port, int failureThreshold = 3, int period = 1) {
  types::Probe p;
  p.tcp = types::ProbeTcp{port};
  p.period = period;
  p.failureThreshold = failureThreshold;
  return p;
}

// A cluster link that serves a manifest the test sets and records every
// report. Its long-poll answers within a few real milliseconds (a fake
// call), so the agent goes back to waiting on its clock.
class FakeLink : public ClusterLink {
 public:
  explicit FakeLink(NodeManifest m) : m_(std::move(m)) {}
  Status registerNode(const types::Node&) override { return Status::ok(); }
  Status report(const types::NodeStatus&, const std::vector<types::Pod>& pods,
                const std::vector<types::Volume>& volumes) override {
    std::vector<std::string> names;
    for (const auto& p : pods) names.push_back(p.meta.selflink + (p.status.ready ? "+" : "-"));
    std::lock_guard lock(mu_);
    reports_.push_back(names);
    for (const auto& v : volumes) volumes_[v.meta.selflink] = v.status;
    return Status::ok();
  }
  StatusOr<bool> volumeExists(const std::string& selflink) override {
    std::lock_guard lock(mu_);
    ++volumeAsks_;
    return !gone_.count(selflink);
  }
  StatusOr<NodeManifest> fetchSpec(int64_t revision, std::chrono::milliseconds) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 5ms, [&] { return m_.revision != revision; });
    return m_;
  }

  StatusOr<std::vector<types::Discovery>> discoveries() override {
    std::lock_guard lock(mu_);
    return discoveries_;
  }
  void setDiscoveries(std::vector<types::Discovery> d) {
    std::lock_guard lock(mu_);
    discoveries_ = std::move(d);
  }

  void setManifest(NodeManifest m) {
    std::lock_guard lock(mu_);
    m.revision = m_.revision + 1;
    m_ = std::move(m);
    cv_.notify_all();
  }
  void removeVolume(const std::string& selflink) {
    std::lock_guard lock(mu_);
    gone_.insert(selflink);
  }
  std::vector<std::vector<std::string>> reports() const {
    std::lock_guard lock(mu_);
    return reports_;
  }
  std::optional<types::VolumeStatus> volume(const std::string& selflink) const {
    std::lock_guard lock(mu_);
    auto it = volumes_.find(selflink);
    if (it == volumes_.end()) return std::nullopt;
    return it->second;
  }
  int volumeAsks() const {
    std::lock_guard lock(mu_);
    return volumeAsks_;
  }

 private:
  std::vector<types::Discovery> discoveries_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  NodeManifest m_;
  std::vector<std::vector<std::string>> reports_;
  std::map<std::string, types::VolumeStatus> volumes_;
  std::set<std::string> gone_;
  int volumeAsks_ = 0;
};

class AgentFixture : public ::testing::Test {
 protected:
  // The fake runtime keeps real timestamps (distinct starts); the agent
  // runs on the manual clock, started well past zero (zero means "never"
  // to back-off bookkeeping).
  AgentFixture() : cri_(realClock(), &images_) {
    images_.addImage(kImage);
    clock_.advance(24h);
  }

  AgentOptions options(Prober prober = defaultProber, std::chrono::milliseconds resync = 50ms,
                       std::string stateFile = "") {
    AgentOptions o;
    o.stateFile = std::move(stateFile);
    o.node = "node-1";
    o.resync = resync;
    o.retry = 20ms;
    o.heartbeat = 100ms;
    o.stopGrace = 0s;
    o.prober = std::move(prober);
    o.clock = &clock_;
    return o;
  }
  std::unique_ptr<Agent> makeAgent(Prober prober = defaultProber,
                                   std::chrono::milliseconds resync = 50ms,
                                   std::string stateFile = "", ClusterLink* link = nullptr) {
    return std::make_unique<Agent>(options(std::move(prober), resync, std::move(stateFile)), link,
                                   &cri_, &images_, &volumes_);
  }

  // Advances the clock by `d`, then lets the threads it woke run until they
  // wait again (bounded in real time: a thread may have ended instead).
  void step(std::chrono::milliseconds d) {
    const size_t parked = clock_.waiters();
    clock_.advance(d);
    settle([&] { return clock_.dueWaiters() == 0 && clock_.waiters() >= parked; }, 200ms);
  }
  // Advances the clock by `by` until `f` holds (at most `limit` of agent
  // time).
  bool advanceUntil(const std::function<bool()>& f, std::chrono::milliseconds by = 10ms,
                    std::chrono::milliseconds limit = 60s) {
    for (auto passed = 0ms; passed <= limit; passed += by) {
      if (settle(f, 2ms)) return true;
      step(by);
    }
    return settle(f, 50ms);
  }
  // Moves the clock `total` forward in steps of `by`.
  void run(std::chrono::milliseconds total, std::chrono::milliseconds by = 10ms) {
    for (auto passed = 0ms; passed < total; passed += by) step(by);
  }

  bool ready(Agent& a, const std::string& sl) {
    auto p = a.podStatus(sl);
    return p && p->status.ready && p->status.state == types::State::kReady;
  }
  std::string message(Agent& a, const std::string& sl) {
    auto p = a.podStatus(sl);
    return p ? p->status.message : "(no pod)";
  }

  std::vector<runtime::cri::ContainerInfo> containers(const std::string& sl = "") {
    runtime::cri::ListOptions lo;
    lo.labels[runtime::cri::kLabelPod] = sl;
    return *cri_.list(lo);
  }

  lb::testing::ManualClock clock_;
  fakes::FakeImageRuntime images_;
  fakes::FakeContainerRuntime cri_;
  fakes::FakeVolumeRuntime volumes_;
};

}  // namespace lb::node::testing
