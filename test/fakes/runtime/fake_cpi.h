#pragma once

// An in-memory ProxyRuntime. Its "data plane" (what is programmed) is shared
// between instances made with reopened(), as a kernel table outlives the
// agent that programmed it; damage() plays an operator removing a VIP's
// entry by hand (info() then shows the endpoint with no ports, until the
// next create() or update() of it). The same programmedState() and
// validateState() the real drivers use check the input. Errors can be
// injected per method ("info", "create", "update", "destroy"). Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "fakes/runtime/error_injector.h"
#include "lastbackend/runtime/cpi.h"

namespace lb::fakes {

class FakeProxyRuntime : public runtime::cpi::ProxyRuntime {
 public:
  using EndpointState = runtime::cpi::EndpointState;

  FakeProxyRuntime() : plane_(std::make_shared<Plane>()) {}

  // Another instance over the same data plane (a restarted agent's driver).
  std::unique_ptr<FakeProxyRuntime> reopened() const {
    return std::unique_ptr<FakeProxyRuntime>(new FakeProxyRuntime(plane_));
  }

  ErrorInjector& errors() { return errors_; }

  // Removes the entry of `vip` as a hand would: its endpoint is no longer served.
  void damage(const std::string& vip) {
    std::lock_guard lock(plane_->mu);
    for (const auto& [name, s] : plane_->endpoints) {
      if (s.ip == vip) plane_->damaged.insert(name);
    }
  }

  StatusOr<std::map<std::string, EndpointState>> info() override {
    LB_RETURN_IF_ERROR(errors_.check("info").withContext("fake cpi: info"));
    std::lock_guard lock(plane_->mu);
    auto out = plane_->endpoints;
    for (const auto& name : plane_->damaged) {
      out[name].ports.clear();
      out[name].policy.clear();
    }
    return out;
  }

  StatusOr<EndpointState> create(const types::Endpoint& endpoint) override {
    return apply(nullptr, endpoint, "create");
  }

  StatusOr<EndpointState> update(const EndpointState& state,
                                 const types::Endpoint& endpoint) override {
    return apply(&state, endpoint, "update");
  }

  Status destroy(const EndpointState& state) override {
    const std::string what = "fake cpi: destroy endpoint '" + runtime::cpi::stateKey(state) + "'";
    LB_RETURN_IF_ERROR(errors_.check("destroy").withContext(what));
    LB_RETURN_IF_ERROR(runtime::cpi::validateState(state).withContext(what));
    std::lock_guard lock(plane_->mu);
    plane_->endpoints.erase(state.name);
    plane_->damaged.erase(state.name);
    return Status::ok();
  }

 private:
  struct Plane {
    std::mutex mu;
    std::map<std::string, EndpointState> endpoints;  // by name
    std::set<std::string> damaged;
  };

  explicit FakeProxyRuntime(std::shared_ptr<Plane> plane) : plane_(std::move(plane)) {}

  StatusOr<EndpointState> apply(const EndpointState* given, const types::Endpoint& endpoint,
                                const std::string& verb) {
    auto want = runtime::cpi::programmedState(endpoint);
    std::string what = "fake cpi: " + verb + " endpoint '" +
                       (want.isOk() ? want->name : endpoint.meta.selflink) + "'";
    LB_RETURN_IF_ERROR(errors_.check(verb).withContext(what));
    if (!want.isOk()) return want.status().withContext(what);
    if (given) {
      LB_RETURN_IF_ERROR(runtime::cpi::validateState(*given).withContext(what + ": its state"));
      if (!given->name.empty() && given->name != want->name)
        return invalidArgument(what + ": the state given is of endpoint '" + given->name + "'");
    }
    std::lock_guard lock(plane_->mu);
    for (const auto& [name, s] : plane_->endpoints) {
      if (s.ip == want->ip && name != want->name)
        return conflict(what + ": VIP " + want->ip + " is programmed for endpoint '" + name + "'");
    }
    plane_->endpoints[want->name] = *want;
    plane_->damaged.erase(want->name);
    return *want;
  }

  std::shared_ptr<Plane> plane_;
  ErrorInjector errors_;
};

}  // namespace lb::fakes
