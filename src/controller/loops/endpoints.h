#pragma once

// Endpoints: a service with ports gets an endpoint (its VIP from IPAM, its
// domain, the ready pods of the deployment that serves) and the cluster
// endpoint manifest the node agents read. Like pods, endpoints belong to
// their service's key ("s/"), which calls in here.

#include <string>
#include <unordered_map>

#include "controller/loops/loop.h"

namespace lb::controller::loops {

class EndpointsLoop final : public Loop {
 public:
  explicit EndpointsLoop(Context& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "endpoints"; }
  char prefix() const override { return 0; }
  std::vector<detail::Kind> kinds() const override;
  void onChange(const Change& change) override;
  void resync() override;
  void clear() override { manifestFrom_.clear(); }

  // Endpoint, VIP and cluster manifest of `svc`, upstreams from the ready
  // pods of deployments `upstreamDeps`; returns a problem to report.
  std::string reconcile(const types::Service& svc, const std::vector<std::string>& upstreamDeps);
  // Removes the endpoint of service `sl`, its manifest and its VIP.
  void remove(const std::string& sl);

 private:
  types::Endpoint desired(const types::Service& svc, const std::string& ip,
                          const std::vector<std::string>& upstreamDeps, bool* existed);
  void writeManifest(const std::string& sl);

  Context& ctx_;
  // selflink -> the endpoint (revision 0) its cluster manifest was last
  // encoded from by this loop; an unchanged endpoint is not encoded again.
  std::unordered_map<std::string, types::Endpoint> manifestFrom_;
};

}  // namespace lb::controller::loops
