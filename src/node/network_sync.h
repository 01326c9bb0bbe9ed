#pragma once

// The node's part of the cluster network (docs/network.md, docs/cpi.md):
// keeps what the CNI and the CPI have programmed equal to the node spec's
// subnets and endpoints, on a thread of its own.
//
//   NetworkSync net(options);    // cni and cpi already opened
//   net.start();
//   net.want(subnets, endpoints);  // each applied spec: a pass soon after
//   net.podNetwork();            // what a pod's first container joins
//   net.stop();                  // nothing is removed: the data plane stays
//
// A pass programs this node's own subnet first (bridge, then the runtime's
// pod network on it), then the peers' subnets (destroys first, creates
// after), then the endpoints: destroys of what no endpoint wants, then an
// update() or create() of each endpoint whose programmed state differs.
// Passes after a spec change work from what the last pass left (a delta);
// every `resync` (and after any error) a full pass reads back what is
// programmed (cni subnets(), cpi info()), which is how drift is repaired and
// how a restarted agent adopts the data plane without touching it.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "lastbackend/common/clock.h"
#include "lastbackend/runtime/cni.h"
#include "lastbackend/runtime/cpi.h"
#include "lastbackend/runtime/cri.h"
#include "lastbackend/types/cluster.h"
#include "lastbackend/types/endpoint.h"

namespace lb::node {

// The runtime network pods join ("lb"): cri::NetworkSpec::name.
inline constexpr const char* kPodNetwork = "lb";

struct NetworkSyncOptions {
  std::string node;
  runtime::cni::NetworkRuntime* cni = nullptr;  // null: no pod network (pods use the runtime's)
  runtime::cpi::ProxyRuntime* cpi = nullptr;    // null: no service VIPs
  runtime::cri::ContainerRuntime* cri = nullptr;
  std::chrono::milliseconds resync{10'000};
  std::chrono::milliseconds retry{1'000};  // after a failed pass
  const Clock* clock = &realClock();
  // Called (on the sync thread) when the pod network becomes ready.
  std::function<void()> onPodNetworkReady;
  // Called (on the sync thread) after an endpoint was programmed, with its
  // selflink: what a benchmark times.
  std::function<void(const std::string&)> onEndpointProgrammed;
};

// Whether a pod's first container can be created, and on which network.
struct PodNetworkState {
  bool ready = false;
  std::string name;     // the runtime network ("" = the runtime's default)
  std::string message;  // why pods wait (ready false)
};

class NetworkSync {
 public:
  explicit NetworkSync(NetworkSyncOptions options);
  ~NetworkSync();
  NetworkSync(const NetworkSync&) = delete;
  NetworkSync& operator=(const NetworkSync&) = delete;

  void start();
  void stop();

  // The cluster network the node spec carries (subnets by cidr, endpoints
  // by selflink); a pass follows. Returns its generation (waitApplied).
  uint64_t want(std::map<std::string, types::Subnet> subnets,
                std::map<std::string, types::Endpoint> endpoints);
  // Waits until a pass that started from generation `gen` (or a later one)
  // succeeded, at most `limit` on the clock; false when it did not. A pod
  // going away waits for this before its containers are stopped, so its
  // service's rules have left it first.
  bool waitApplied(uint64_t gen, std::chrono::milliseconds limit);

  PodNetworkState podNetwork() const;

  // One pass now, on the calling thread (tests without start()); `full`
  // reads back what is programmed first. False when some step failed.
  bool syncOnce(bool full);

 private:
  bool syncSubnets(bool full, const std::map<std::string, types::Subnet>& subnets);
  bool syncOwn(const types::Subnet* own);
  bool syncEndpoints(bool full, const std::map<std::string, types::Endpoint>& endpoints);
  void setPodNetwork(PodNetworkState s);
  void loop();

  NetworkSyncOptions opt_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool dirty_ = false;
  bool known_ = false;  // want() was called: a spec is known
  uint64_t gen_ = 0, applied_ = 0;
  std::map<std::string, types::Subnet> subnets_;
  std::map<std::string, types::Endpoint> endpoints_;
  PodNetworkState pod_;
  std::thread thread_;

  // The sync thread's own (one pass at a time: passMu_).
  std::mutex passMu_;
  std::map<std::string, runtime::cni::NetworkState> programmedSubnets_;
  std::map<std::string, runtime::cpi::EndpointState> programmedEndpoints_;
  std::string ownCidr_;  // the subnet the runtime's pod network has
  bool adopted_ = false;  // a full pass has read the data plane back
};

}  // namespace lb::node
