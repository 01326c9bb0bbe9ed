#pragma once

// How the agent talks to the cluster: register, report, follow its spec.
// ApiLink is the REST API implementation (lb::client); tests use a fake.
// Every method is thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/types/component.h"
#include "lastbackend/types/node.h"
#include "lastbackend/types/pod.h"
#include "lastbackend/types/volume.h"
#include "node/manifest.h"

namespace lb::client {
class Client;
}

namespace lb::node {

class ClusterLink {
 public:
  virtual ~ClusterLink() = default;
  // PUT /cluster/node/{node}/meta.
  virtual Status registerNode(const types::Node& node) = 0;
  // PUT /cluster/node/{node}/status with the node status, pod statuses and
  // the statuses of the Volumes the node holds (pods and volumes carry
  // meta.selflink and status only). kNotFound: not registered.
  virtual Status report(const types::NodeStatus& status, const std::vector<types::Pod>& pods,
                        const std::vector<types::Volume>& volumes) = 0;
  // Whether the Volume `selflink` ("ns:name") still exists in the cluster
  // (GET /namespace/{ns}/volume/{name}); an error when that is not known.
  virtual StatusOr<bool> volumeExists(const std::string& selflink) = 0;
  // The node's manifests once they changed after `revision` (0: at once),
  // or the current ones when `wait` passes without a change.
  virtual StatusOr<NodeManifest> fetchSpec(int64_t revision, std::chrono::milliseconds wait) = 0;
  // The registered discovery servers (GET /discovery), status merged.
  virtual StatusOr<std::vector<types::Discovery>> discoveries() = 0;
};

// The REST API link; `client` must outlive it. Its request timeout must be
// longer than the spec wait.
std::unique_ptr<ClusterLink> makeApiLink(client::Client* client, const std::string& node);

}  // namespace lb::node
