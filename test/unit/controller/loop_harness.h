#pragma once

// Drives the controller's core with a chosen set of loops on the mock store
// and a manual clock: a test writes objects the way the api and the node
// agents do, runs a pass, and reads what the loops wrote. No threads, no
// sleeps.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "controller/core.h"
#include "controller/election.h"
#include "controller/loops/registry.h"
#include "fakes/manual_clock.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/storage/storage.h"
#include "lastbackend/types/codec.h"

namespace lb::controller::testing {

namespace keys = storage::keys;
using namespace std::chrono_literals;

// Builds only loop L (for loops that need no other).
template <class L>
Core::LoopFactory only() {
  return [](loops::Context& ctx) {
    std::vector<std::unique_ptr<loops::Loop>> out;
    out.push_back(std::make_unique<L>(ctx));
    return out;
  };
}

class LoopHarness {
 public:
  explicit LoopHarness(Core::LoopFactory make = loops::makeLoops, Options options = {}) {
    storage::Options so;
    so.driver = "mock";
    store_ = std::shared_ptr<storage::Storage>(std::move(storage::open(so).value()));
    options.clock = &clock_;
    options.servicesCidr = "10.96.0.0/24";  // the tests read /system/ipam with this range
    opt_ = std::move(options);
    elector_ = std::make_unique<Elector>(*store_, clock_, "c1", 10s);
    EXPECT_TRUE(*elector_->tick());
    make_ = std::move(make);
    restart();
  }

  // A new core on the same store, as a restarted controller has: nothing
  // but what the store holds.
  void restart() {
    core_.reset();
    core_ = std::make_unique<Core>(store_, opt_, *elector_, Ipam::create(opt_.servicesCidr).value(),
                                   make_);
  }

  // One loop pass; fails the test on an error.
  void pass() {
    Status s = core_->runOnce(0ms);
    ASSERT_TRUE(s.isOk()) << s.message();
  }
  // Advances the clock by `d`, renews the lease as the running controller
  // does, and runs a pass.
  void after(std::chrono::milliseconds d) {
    clock_.advance(d);
    EXPECT_TRUE(*elector_->tick());
    pass();
  }

  template <class T>
  void put(const std::string& key, const T& obj) {
    ASSERT_TRUE(store_->set(key, types::toJson(obj)).isOk()) << key;
  }
  void remove(const std::string& key) { ASSERT_TRUE(store_->del(key).isOk()) << key; }

  template <class T>
  std::optional<T> get(const std::string& key) {
    auto o = store_->get(key);
    if (!o.isOk()) return std::nullopt;
    T v;
    EXPECT_TRUE(types::fromJson(o->value, &v).isOk()) << key;
    return v;
  }
  bool has(const std::string& key) { return store_->get(key).isOk(); }
  size_t count(const std::string& prefix) {
    auto l = store_->list(prefix);
    return l.isOk() ? l->items.size() : 0;
  }
  template <class T>
  std::vector<T> listOf(const std::string& prefix) {
    std::vector<T> out;
    auto l = store_->list(prefix);
    if (!l.isOk()) return out;
    for (const auto& o : l->items) {
      T v;
      EXPECT_TRUE(types::fromJson(o.value, &v).isOk()) << o.key;
      out.push_back(std::move(v));
    }
    return out;
  }

  // Objects written the way the api writes them.
  void putNamespace(const std::string& ns) {
    types::Namespace n;
    n.meta.name = ns;
    n.meta.selflink = ns;
    put(*keys::namespaceKey(ns), n);
  }
  static types::Service service(const std::string& ns, const std::string& name, int replicas) {
    types::Service s;
    s.meta.name = name;
    s.meta.namespace_ = ns;
    s.meta.selflink = types::objectSelflink(ns, name);
    s.spec.replicas = replicas;
    types::ContainerSpec c;
    c.name = "main";
    c.image.name = "web:1";
    s.spec.template_.containers.push_back(c);
    s.spec.network.ports.push_back({80, 8080, "tcp"});
    return s;
  }
  void putService(const types::Service& s) {
    put(*keys::serviceKey(s.meta.namespace_, s.meta.name), s);
  }
  // A registered node with a heartbeat from now.
  void putNode(const std::string& name, bool online = true) {
    types::Node n;
    n.meta.name = name;
    put(*keys::nodeKey(name, keys::Part::kInfo), n);
    heartbeat(name, online);
  }
  void heartbeat(const std::string& name, bool online = true) {
    types::Node n;
    n.meta.name = name;
    n.status.online = online;
    n.status.heartbeat = formatRfc3339(clock_.now());
    n.status.capacity = {4000, 8LL << 30, 0, 110};
    put(*keys::nodeKey(name, keys::Part::kStatus), n);
  }
  // What a node agent reports for a running pod.
  void markReady(types::Pod p, const std::string& ip) {
    p.status.ready = true;
    p.status.state = types::State::kReady;
    p.status.ip = ip;
    put(*keys::objectKey(keys::Collection::kPod, p.meta.selflink), p);
  }

  storage::Storage& store() { return *store_; }
  lb::testing::ManualClock& clock() { return clock_; }
  Core& core() { return *core_; }

 private:
  lb::testing::ManualClock clock_;
  std::shared_ptr<storage::Storage> store_;
  Options opt_;
  Core::LoopFactory make_;
  std::unique_ptr<Elector> elector_;
  std::unique_ptr<Core> core_;
};

}  // namespace lb::controller::testing
