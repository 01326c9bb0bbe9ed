#pragma once

// Key builders for the storage tree (reference section 7), relative to the
// driver's prefix: "/service/demo:web" is stored as "/lastbackend/service/demo:web".
//
// Object names become key segments, so every builder validates its inputs
// and returns kInvalidArgument (naming the offending part) rather than build
// a key that could escape its collection ("../x", "a/b") or collide with a
// sibling ("a:b" as a namespace name would read as the selflink of service b).
//
// A selflink joins an object's ancestry with ':' — "ns:svc" for a service,
// "ns:svc:dep" for a deployment, "ns:svc:dep:pod" for a pod.

#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::storage::keys {

// The top-level collections of the tree.
enum class Collection {
  kNamespace,
  kService,
  kEndpoint,
  kDeployment,
  kPod,
  kVolume,
  kSecret,
  kConfig,
  kRoute,
  kDiscovery,
  kIngress,
  kExporter,
  kCluster,  // /cluster/info and /cluster/node/...
  kSubnet,
  kManifest,         // per-node manifests: /manifest/node/<node>/...
  kClusterManifest,  // /manifests/cluster/...
  kSystem,
};

// "namespace", "service", ..., "manifests" (the first path element).
std::string_view collectionName(Collection c);
// Every collection, in declaration order.
const std::vector<Collection>& collections();
// "/<name>/": the prefix that lists (or watches) the whole collection.
std::string collectionPrefix(Collection c);
// Number of selflink parts of an object of `c` ("ns:svc" = 2), or 0 if the
// collection is not keyed by a selflink.
int selfLinkParts(Collection c);

// Input checks, exposed so handlers can validate names before building keys.
// A segment: non-empty, at most 253 bytes, no '/', no ':', not "." or "..",
// no ".." anywhere, no control characters or spaces. `what` names the input
// in the error ("namespace name", ...).
Status validateSegment(std::string_view segment, std::string_view what);
// A selflink of exactly `parts` ':'-separated valid segments.
Status validateSelfLink(std::string_view selflink, int parts, std::string_view what);

// Joins validated parts with ':'.
StatusOr<std::string> selfLink(const std::vector<std::string_view>& parts);

// Objects keyed by selflink: "/<collection>/<selflink>". kInvalidArgument if
// `c` is not selflink-keyed or the selflink has the wrong number of parts.
StatusOr<std::string> objectKey(Collection c, std::string_view selflink);

StatusOr<std::string> namespaceKey(std::string_view ns);
StatusOr<std::string> serviceKey(std::string_view ns, std::string_view svc);
StatusOr<std::string> endpointKey(std::string_view ns, std::string_view svc);
StatusOr<std::string> deploymentKey(std::string_view ns, std::string_view svc,
                                    std::string_view dep);
StatusOr<std::string> podKey(std::string_view ns, std::string_view svc, std::string_view dep,
                             std::string_view pod);
StatusOr<std::string> volumeKey(std::string_view ns, std::string_view volume);
StatusOr<std::string> secretKey(std::string_view ns, std::string_view secret);
StatusOr<std::string> configKey(std::string_view ns, std::string_view config);
StatusOr<std::string> routeKey(std::string_view ns, std::string_view route);

// Components that keep an object and a separately written status.
enum class Part { kInfo, kStatus };
StatusOr<std::string> discoveryKey(std::string_view id, Part part);
StatusOr<std::string> ingressKey(std::string_view id, Part part);
StatusOr<std::string> exporterKey(std::string_view id, Part part);
StatusOr<std::string> nodeKey(std::string_view node, Part part);  // /cluster/node/<node>/...

std::string clusterInfoKey();  // /cluster/info
// "/subnet/<cidr>" with the CIDR's '/' written as '_' ("10.0.0.0_24") so the
// CIDR stays one segment. Only hex digits, '.', ':' and one "/<bits>".
StatusOr<std::string> subnetKey(std::string_view cidr);
// The CIDR a subnet key's last segment stands for ("10.0.0.0_24" -> "10.0.0.0/24").
std::string subnetCidr(std::string_view segment);

// Per-node manifests: /manifest/node/<node>/<kind>/<selflink>.
enum class ManifestKind { kPod, kVolume, kEndpoint, kSecret, kConfig };
std::string_view manifestKindName(ManifestKind kind);  // "pod", "volume", ...
// `selflink` must have the parts of its object (pod: 4, the others: 2).
StatusOr<std::string> nodeManifestKey(std::string_view node, ManifestKind kind,
                                      std::string_view selflink);
// /manifests/cluster/endpoint/<ns:svc>
StatusOr<std::string> clusterEndpointManifestKey(std::string_view selflink);
// /manifests/cluster/route/<ns:route>: what the ingresses serve.
StatusOr<std::string> clusterRouteManifestKey(std::string_view selflink);
// /manifests/cluster/subnet/<cidr>, the CIDR written as in subnetKey.
StatusOr<std::string> clusterSubnetManifestKey(std::string_view cidr);

std::string ipamKey();                                         // /system/ipam
StatusOr<std::string> controllerKey(std::string_view id);      // /system/controller/<id>
StatusOr<std::string> controllerLeadKey(std::string_view id);  // /system/controller/<id>:lead

// Filters: list/watch prefixes for the children of a parent. Each ends with
// the separator, so "/pod/ns:svc:" never matches the pods of "ns:svc2".
// Objects of `c` in namespace `ns`: "/<c>/<ns>:" (c must be selflink-keyed
// with >= 2 parts).
StatusOr<std::string> namespacePrefix(Collection c, std::string_view ns);
StatusOr<std::string> servicesPrefix(std::string_view ns);  // /service/ns:
StatusOr<std::string> deploymentsPrefix(std::string_view ns,
                                        std::string_view svc);  // /deployment/ns:svc:
StatusOr<std::string> podsOfServicePrefix(std::string_view ns,
                                          std::string_view svc);  // /pod/ns:svc:
StatusOr<std::string> podsOfDeploymentPrefix(std::string_view ns, std::string_view svc,
                                             std::string_view dep);  // /pod/ns:svc:dep:
// /manifest/node/<node>/ (every manifest of the node) and one kind of them.
StatusOr<std::string> nodeManifestsPrefix(std::string_view node);
StatusOr<std::string> nodeManifestsPrefix(std::string_view node, ManifestKind kind);
std::string nodesPrefix();        // /cluster/node/
std::string subnetsPrefix();      // /subnet/
std::string clusterEndpointManifestsPrefix();  // /manifests/cluster/endpoint/
std::string clusterSubnetManifestsPrefix();    // /manifests/cluster/subnet/
std::string clusterRouteManifestsPrefix();     // /manifests/cluster/route/
std::string controllersPrefix();  // /system/controller/

}  // namespace lb::storage::keys
