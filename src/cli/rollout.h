#pragma once

// How far a service's rollout has come, read from what the API shows: the
// service, its deployments and their pods. `lb namespace apply --wait` reads
// it until every applied service is done.
//
// A rollout is done when the deployment made from the service's current
// template and replica count has exactly that many pods, all Ready, and no
// pod of another deployment is left (blue/green finished, scale-down done).
// "Made from the current template" is known for sure by the deployment hash
// apply answers (`hash`: it covers the secrets and configs the env takes,
// whose change rolls the pods too); without one, by an equal template.

#include <map>
#include <string>
#include <vector>

#include "lastbackend/types/deployment.h"
#include "lastbackend/types/pod.h"
#include "lastbackend/types/service.h"

namespace lb::cli {

struct Rollout {
  std::string service;   // its name
  int want = 0;          // spec.replicas
  bool current = false;  // a deployment of the current template and replicas exists
  int pods = 0;          // pods of that deployment
  int ready = 0;         // ... of them Ready
  int old = 0;           // pods of other deployments still there
  std::string message;   // the first pod message of that deployment ("pulling image ...")
  std::string phase;     // the service's status message ("rolling out ... in batches ...")
  bool done() const { return current && pods == want && ready == want && old == 0; }
};

// `pods` maps a deployment's name to its pods.
Rollout rolloutOf(const types::Service& service, const std::vector<types::Deployment>& deployments,
                  const std::map<std::string, std::vector<types::Pod>>& pods,
                  const std::string& hash = "");

// The same from the deployments' status counts alone (the controller's
// view, no pod listing): cheap to read often, a step behind the pods. A
// rollout it calls done is confirmed with rolloutOf before it is believed.
Rollout rolloutFromStatus(const types::Service& service,
                          const std::vector<types::Deployment>& deployments,
                          const std::string& hash = "");

// "web: 3 of 10 pods ready, 2 old pods left (pulling image ...)".
std::string describe(const Rollout& r);

}  // namespace lb::cli
