#include "lastbackend/storage/keys.h"

#include <array>
#include <cctype>

namespace lb::storage::keys {
namespace {

constexpr size_t kMaxSegment = 253;

struct CollectionInfo {
  Collection c;
  std::string_view name;
  int parts;  // selflink parts, 0 if not selflink-keyed
};

constexpr std::array<CollectionInfo, 17> kCollections = {{
    {Collection::kNamespace, "namespace", 1},
    {Collection::kService, "service", 2},
    {Collection::kEndpoint, "endpoint", 2},
    {Collection::kDeployment, "deployment", 3},
    {Collection::kPod, "pod", 4},
    {Collection::kVolume, "volume", 2},
    {Collection::kSecret, "secret", 2},
    {Collection::kConfig, "config", 2},
    {Collection::kRoute, "route", 2},
    {Collection::kDiscovery, "discovery", 0},
    {Collection::kIngress, "ingress", 0},
    {Collection::kExporter, "exporter", 0},
    {Collection::kCluster, "cluster", 0},
    {Collection::kSubnet, "subnet", 0},
    {Collection::kManifest, "manifest", 0},
    {Collection::kClusterManifest, "manifests", 0},
    {Collection::kSystem, "system", 0},
}};

const CollectionInfo& infoOf(Collection c) { return kCollections[static_cast<size_t>(c)]; }

std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += ch;
    }
  }
  return out + "'";
}

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out += p;
  return out;
}

// "/<collection>/<a>:<b>..." after validating each part.
StatusOr<std::string> selfLinkKey(Collection c, std::initializer_list<std::string_view> parts,
                                  std::initializer_list<std::string_view> names) {
  auto name = names.begin();
  for (auto p : parts) {
    LB_RETURN_IF_ERROR(validateSegment(p, *name++));
  }
  std::string key = collectionPrefix(c);
  bool first = true;
  for (auto p : parts) {
    if (!first) key += ':';
    key += p;
    first = false;
  }
  return key;
}

StatusOr<std::string> componentKey(std::string_view collection, std::string_view id, Part part,
                                   std::string_view what) {
  LB_RETURN_IF_ERROR(validateSegment(id, what));
  return join({"/", collection, "/", id, part == Part::kInfo ? "/info" : "/status"});
}

}  // namespace

std::string_view collectionName(Collection c) { return infoOf(c).name; }

const std::vector<Collection>& collections() {
  static const std::vector<Collection> all = [] {
    std::vector<Collection> v;
    v.reserve(std::size(kCollections));
    for (const auto& ci : kCollections) v.push_back(ci.c);
    return v;
  }();
  return all;
}

std::string collectionPrefix(Collection c) { return join({"/", collectionName(c), "/"}); }

int selfLinkParts(Collection c) { return infoOf(c).parts; }

Status validateSegment(std::string_view segment, std::string_view what) {
  std::string w(what);
  if (segment.empty()) return invalidArgument(w + " is empty");
  if (segment.size() > kMaxSegment) {
    return invalidArgument(w + " is longer than " + std::to_string(kMaxSegment) + " bytes");
  }
  if (segment == "." || segment.find("..") != std::string_view::npos) {
    return invalidArgument(w + " " + quoted(segment) + " contains '..' or is '.'");
  }
  for (char ch : segment) {
    auto u = static_cast<unsigned char>(ch);
    if (ch == '/' || ch == ':') {
      return invalidArgument(w + " " + quoted(segment) + " contains '" + std::string(1, ch) + "'");
    }
    if (u <= 0x20 || u == 0x7f) {
      return invalidArgument(w + " " + quoted(segment) + " contains a space or control character");
    }
  }
  return Status::ok();
}

Status validateSelfLink(std::string_view selflink, int parts, std::string_view what) {
  int n = 0;
  size_t start = 0;
  while (true) {
    size_t colon = selflink.find(':', start);
    auto part =
        selflink.substr(start, colon == std::string_view::npos ? selflink.npos : colon - start);
    ++n;
    if (n > parts) break;
    LB_RETURN_IF_ERROR(validateSegment(part, std::string(what) + " part " + std::to_string(n))
                           .withContext(std::string(what) + " " + quoted(selflink)));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (n != parts) {
    return invalidArgument(std::string(what) + " " + quoted(selflink) + " must have " +
                           std::to_string(parts) + " ':'-separated parts");
  }
  return Status::ok();
}

StatusOr<std::string> selfLink(const std::vector<std::string_view>& parts) {
  if (parts.empty()) return invalidArgument("selflink has no parts");
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    LB_RETURN_IF_ERROR(validateSegment(parts[i], "selflink part " + std::to_string(i + 1)));
    if (i) out += ':';
    out += parts[i];
  }
  return out;
}

StatusOr<std::string> objectKey(Collection c, std::string_view selflink) {
  int parts = selfLinkParts(c);
  if (parts == 0) {
    return invalidArgument("collection '" + std::string(collectionName(c)) +
                           "' is not keyed by selflink");
  }
  LB_RETURN_IF_ERROR(
      validateSelfLink(selflink, parts, std::string(collectionName(c)) + " selflink"));
  return collectionPrefix(c) + std::string(selflink);
}

StatusOr<std::string> namespaceKey(std::string_view ns) {
  return selfLinkKey(Collection::kNamespace, {ns}, {"namespace name"});
}
StatusOr<std::string> serviceKey(std::string_view ns, std::string_view svc) {
  return selfLinkKey(Collection::kService, {ns, svc}, {"namespace name", "service name"});
}
StatusOr<std::string> endpointKey(std::string_view ns, std::string_view svc) {
  return selfLinkKey(Collection::kEndpoint, {ns, svc}, {"namespace name", "service name"});
}
StatusOr<std::string> deploymentKey(std::string_view ns, std::string_view svc,
                                    std::string_view dep) {
  return selfLinkKey(Collection::kDeployment, {ns, svc, dep},
                     {"namespace name", "service name", "deployment name"});
}
StatusOr<std::string> podKey(std::string_view ns, std::string_view svc, std::string_view dep,
                             std::string_view pod) {
  return selfLinkKey(Collection::kPod, {ns, svc, dep, pod},
                     {"namespace name", "service name", "deployment name", "pod name"});
}
StatusOr<std::string> volumeKey(std::string_view ns, std::string_view volume) {
  return selfLinkKey(Collection::kVolume, {ns, volume}, {"namespace name", "volume name"});
}
StatusOr<std::string> secretKey(std::string_view ns, std::string_view secret) {
  return selfLinkKey(Collection::kSecret, {ns, secret}, {"namespace name", "secret name"});
}
StatusOr<std::string> configKey(std::string_view ns, std::string_view config) {
  return selfLinkKey(Collection::kConfig, {ns, config}, {"namespace name", "config name"});
}
StatusOr<std::string> routeKey(std::string_view ns, std::string_view route) {
  return selfLinkKey(Collection::kRoute, {ns, route}, {"namespace name", "route name"});
}

StatusOr<std::string> discoveryKey(std::string_view id, Part part) {
  return componentKey("discovery", id, part, "discovery id");
}
StatusOr<std::string> ingressKey(std::string_view id, Part part) {
  return componentKey("ingress", id, part, "ingress id");
}
StatusOr<std::string> exporterKey(std::string_view id, Part part) {
  return componentKey("exporter", id, part, "exporter id");
}
StatusOr<std::string> nodeKey(std::string_view node, Part part) {
  return componentKey("cluster/node", node, part, "node name");
}

std::string clusterInfoKey() { return "/cluster/info"; }

namespace {

// "10.0.0.0/24" -> "10.0.0.0_24", the one segment a CIDR is stored under.
StatusOr<std::string> cidrSegment(std::string_view cidr) {
  size_t slash = cidr.find('/');
  bool ok = !cidr.empty() && slash != std::string_view::npos && slash > 0 &&
            slash + 1 < cidr.size() && cidr.size() <= 64;
  if (ok) {
    for (size_t i = 0; i < cidr.size() && ok; ++i) {
      char ch = cidr[i];
      if (i < slash) {
        ok = std::isxdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == ':';
      } else if (i > slash) {
        ok = ch >= '0' && ch <= '9';
      }
    }
  }
  if (!ok) return invalidArgument("subnet " + quoted(cidr) + " is not a CIDR");
  std::string out(cidr);
  out[slash] = '_';
  return out;
}

}  // namespace

StatusOr<std::string> subnetKey(std::string_view cidr) {
  auto segment = cidrSegment(cidr);
  if (!segment.isOk()) return segment.status();
  return "/subnet/" + *segment;
}

std::string subnetCidr(std::string_view segment) {
  std::string out(segment);
  size_t bar = out.rfind('_');
  if (bar != std::string::npos) out[bar] = '/';
  return out;
}

std::string_view manifestKindName(ManifestKind kind) {
  switch (kind) {
    case ManifestKind::kPod:
      return "pod";
    case ManifestKind::kVolume:
      return "volume";
    case ManifestKind::kEndpoint:
      return "endpoint";
    case ManifestKind::kSecret:
      return "secret";
    case ManifestKind::kConfig:
      return "config";
  }
  return "unknown";
}

StatusOr<std::string> nodeManifestKey(std::string_view node, ManifestKind kind,
                                      std::string_view selflink) {
  LB_RETURN_IF_ERROR(validateSegment(node, "node name"));
  int parts = kind == ManifestKind::kPod ? 4 : 2;
  LB_RETURN_IF_ERROR(
      validateSelfLink(selflink, parts, std::string(manifestKindName(kind)) + " selflink"));
  return join({"/manifest/node/", node, "/", manifestKindName(kind), "/", selflink});
}

StatusOr<std::string> clusterEndpointManifestKey(std::string_view selflink) {
  LB_RETURN_IF_ERROR(validateSelfLink(selflink, 2, "endpoint selflink"));
  return join({"/manifests/cluster/endpoint/", selflink});
}

StatusOr<std::string> clusterRouteManifestKey(std::string_view selflink) {
  LB_RETURN_IF_ERROR(validateSelfLink(selflink, 2, "route selflink"));
  return clusterRouteManifestsPrefix() + std::string(selflink);
}

StatusOr<std::string> clusterSubnetManifestKey(std::string_view cidr) {
  auto segment = cidrSegment(cidr);
  if (!segment.isOk()) return segment.status();
  return clusterSubnetManifestsPrefix() + *segment;
}

std::string ipamKey() { return "/system/ipam"; }

StatusOr<std::string> controllerKey(std::string_view id) {
  LB_RETURN_IF_ERROR(validateSegment(id, "controller id"));
  return join({controllersPrefix(), id});
}
StatusOr<std::string> controllerLeadKey(std::string_view id) {
  LB_RETURN_IF_ERROR(validateSegment(id, "controller id"));
  return join({controllersPrefix(), id, ":lead"});
}

StatusOr<std::string> namespacePrefix(Collection c, std::string_view ns) {
  if (selfLinkParts(c) < 2) {
    return invalidArgument("collection '" + std::string(collectionName(c)) +
                           "' has no per-namespace objects");
  }
  LB_RETURN_IF_ERROR(validateSegment(ns, "namespace name"));
  return collectionPrefix(c) + std::string(ns) + ":";
}
StatusOr<std::string> servicesPrefix(std::string_view ns) {
  return namespacePrefix(Collection::kService, ns);
}
StatusOr<std::string> deploymentsPrefix(std::string_view ns, std::string_view svc) {
  auto k = selfLinkKey(Collection::kDeployment, {ns, svc}, {"namespace name", "service name"});
  if (!k) return k.status();
  return *k + ":";
}
StatusOr<std::string> podsOfServicePrefix(std::string_view ns, std::string_view svc) {
  auto k = selfLinkKey(Collection::kPod, {ns, svc}, {"namespace name", "service name"});
  if (!k) return k.status();
  return *k + ":";
}
StatusOr<std::string> podsOfDeploymentPrefix(std::string_view ns, std::string_view svc,
                                             std::string_view dep) {
  auto k = selfLinkKey(Collection::kPod, {ns, svc, dep},
                       {"namespace name", "service name", "deployment name"});
  if (!k) return k.status();
  return *k + ":";
}
StatusOr<std::string> nodeManifestsPrefix(std::string_view node) {
  LB_RETURN_IF_ERROR(validateSegment(node, "node name"));
  return join({"/manifest/node/", node, "/"});
}
StatusOr<std::string> nodeManifestsPrefix(std::string_view node, ManifestKind kind) {
  auto p = nodeManifestsPrefix(node);
  if (!p) return p.status();
  return *p + std::string(manifestKindName(kind)) + "/";
}
std::string nodesPrefix() { return "/cluster/node/"; }
std::string subnetsPrefix() { return "/subnet/"; }
std::string clusterEndpointManifestsPrefix() { return "/manifests/cluster/endpoint/"; }
std::string clusterSubnetManifestsPrefix() { return "/manifests/cluster/subnet/"; }
std::string clusterRouteManifestsPrefix() { return "/manifests/cluster/route/"; }
std::string controllersPrefix() { return "/system/controller/"; }

}  // namespace lb::storage::keys
