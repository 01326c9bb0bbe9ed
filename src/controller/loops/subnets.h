#pragma once

// Subnets: work key "b/<node>". Leases every registered node one subnet of
// the pod range (`--pods-cidr`, prefix `--node-subnet-size` each) and keeps
// the two keys the reference storage tree has for it in step with the node:
// the subnet (/subnet/<cidr>) and its cluster manifest
// (/manifests/cluster/subnet/<cidr>), which every node agent reads to reach
// the peer's pods (its underlay address and interface). The node's
// spec.network names its subnet, or says why it has none: with the range
// exhausted the node is not ready for pods (not scheduled onto) until a
// subnet frees.
//
// A subnet is never given twice: a new one is created on the condition that
// its key does not exist, and the allocator holds every cached subnet, so
// it never offers one that is taken. The subnet keys are the allocator's
// state: a restarted controller adopts them from its cache, and each node
// keeps its lease. The lease goes when the node is removed (its info key
// goes), not when it is merely offline.
//
// Key "b/" (no node) drops subnets that name no node and manifests whose
// subnet is gone.

#include <optional>
#include <set>
#include <string>

#include "controller/ipam.h"
#include "controller/loops/loop.h"

namespace lb::controller::loops {

class SubnetsLoop final : public Loop {
 public:
  explicit SubnetsLoop(Context& ctx);

  std::string_view name() const override { return "subnets"; }
  char prefix() const override { return 'b'; }
  std::vector<detail::Kind> kinds() const override;
  void onChange(const Change& change) override;
  void reconcile(const std::string& node) override;
  void resync() override;
  void clear() override;

 private:
  void track(const Change& c);
  std::string lease(const std::string& node, std::string* problem);
  void writeSubnet(const std::string& node, const std::string& cidr, const types::NodeInfo& info);
  void writeNodeNetwork(const std::string& node, types::NodeNetwork want);
  void removeSubnet(const std::string& cidr);
  void releaseAll(const std::string& node);
  void dropOrphanManifests();

  Context& ctx_;
  // Mirrors the cached subnets (owner: the node; a node's second subnet is
  // held as "stray:<cidr>" until its node key drops it). nullopt when the
  // options are bad, which Controller::create refuses.
  std::optional<Ipam> pool_;
  std::set<std::string> waiting_;  // nodes the range had no subnet for
};

}  // namespace lb::controller::loops
