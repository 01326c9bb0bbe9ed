#pragma once

// Services and deployments: work key "s/<ns:svc>". A service gets one
// deployment per template (the template hash includes the env taken from
// secrets and configs); a new template is rolled out blue/green: the new
// deployment scales up, the old one keeps serving until the new one is
// ready, then its pods go and it is kept, retired, as history (the last
// Options::deploymentHistory of them). When the new pods do not all fit
// beside the old ones, the old deployment gives way in batches (makeRoom),
// so a rollout always finishes. A service being destroyed (or whose namespace is gone)
// is torn down with its deployments, pods and endpoint.

#include <map>
#include <string>
#include <vector>

#include "controller/loops/endpoints.h"
#include "controller/loops/loop.h"
#include "controller/loops/pods.h"

namespace lb::controller::loops {

class ServicesLoop final : public Loop {
 public:
  ServicesLoop(Context& ctx, PodsLoop& pods, EndpointsLoop& endpoints)
      : ctx_(ctx), pods_(pods), endpoints_(endpoints) {}

  std::string_view name() const override { return "services"; }
  char prefix() const override { return 's'; }
  std::vector<detail::Kind> kinds() const override;
  void onChange(const Change& change) override;
  void reconcile(const std::string& sl) override;
  void resync() override;
  void tick(SteadyTime now) override;
  SteadyTime nextTick() const override;
  void clear() override { deadlines_.clear(); }

 private:
  std::string deploymentHash(const types::Service& svc);
  std::vector<std::string> deploymentsOf(const std::string& sl);
  std::string currentDeployment(const std::string& sl, const types::Service& svc,
                                const std::string& hash, const std::vector<std::string>& deps);
  std::string retireOld(const std::string& sl, const std::string& cur, bool ready,
                        const std::vector<std::string>& deps);
  int podTarget(const types::Service& svc, const std::string& cur,
                const std::vector<std::string>& deps);
  std::string revertedFrom(const std::string& curName, const std::vector<std::string>& deps);
  bool revertIfFailed(const types::Service& svc, const std::string& cur, const std::string& serving,
                      const PodCounts& cc);
  std::string makeRoom(const types::Service& svc, const std::string& cur,
                       const std::string& serving);
  void updateDeploymentStatus(const std::string& depSl, const PodCounts& c);
  void putDeployment(const types::Deployment& d);
  void destroyDeployment(const std::string& depSl);
  void retireDeployment(const std::string& depSl, const std::string& cur);
  void pruneHistory(const std::string& sl, const std::vector<std::string>& deps);
  void teardown(const std::string& sl);
  void updateStatus(const types::Service& svc, types::ServiceStatus st);

  Context& ctx_;
  PodsLoop& pods_;
  EndpointsLoop& endpoints_;
  // Services whose new deployment's deadline is still to come, and when.
  std::map<std::string, SteadyTime> deadlines_;
};

}  // namespace lb::controller::loops
