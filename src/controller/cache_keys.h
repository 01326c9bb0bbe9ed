#pragma once

// Private to the controller: which collection a store key belongs to, and
// the selflink arithmetic the loops use.

#include <string>
#include <string_view>

#include "lastbackend/storage/keys.h"

namespace lb::controller::detail {

enum class Kind {
  kService,
  kDeployment,
  kPod,
  kEndpoint,
  kSecret,
  kConfig,
  kVolume,
  kRoute,
  kNamespace,
  kNodeInfo,
  kNodeStatus,
  kNodeManifest,     // /manifest/node/<node>/<kind>/<selflink>; id = the key, node = <node>
  kClusterManifest,  // /manifests/cluster/endpoint/<selflink>; id = selflink
  kRouteManifest,    // /manifests/cluster/route/<selflink>; id = selflink
  kSubnet,           // /subnet/<cidr>; id = the cidr ("10.244.1.0/24")
  kSubnetManifest,   // /manifests/cluster/subnet/<cidr>; id = the cidr
  kIpam,
  kOther,
};

struct KeyInfo {
  Kind kind = Kind::kOther;
  std::string id;    // selflink, node name, or the key itself
  std::string node;  // for node manifests
};

inline KeyInfo classify(std::string_view key) {
  auto strip = [&](std::string_view prefix, std::string_view* rest) {
    if (key.substr(0, prefix.size()) != prefix) return false;
    *rest = key.substr(prefix.size());
    return !rest->empty();
  };
  std::string_view rest;
  static constexpr std::pair<std::string_view, Kind> kFlat[] = {{"/service/", Kind::kService},
                                                                {"/deployment/", Kind::kDeployment},
                                                                {"/pod/", Kind::kPod},
                                                                {"/endpoint/", Kind::kEndpoint},
                                                                {"/secret/", Kind::kSecret},
                                                                {"/config/", Kind::kConfig},
                                                                {"/volume/", Kind::kVolume},
                                                                {"/route/", Kind::kRoute},
                                                                {"/namespace/", Kind::kNamespace}};
  for (const auto& [prefix, kind] : kFlat) {
    if (strip(prefix, &rest)) return {kind, std::string(rest), {}};
  }
  if (strip("/cluster/node/", &rest)) {
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return {};
    std::string_view part = rest.substr(slash + 1);
    if (part == "info") return {Kind::kNodeInfo, std::string(rest.substr(0, slash)), {}};
    if (part == "status") return {Kind::kNodeStatus, std::string(rest.substr(0, slash)), {}};
    return {};
  }
  if (strip("/manifest/node/", &rest)) {
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return {};
    return {Kind::kNodeManifest, std::string(key), std::string(rest.substr(0, slash))};
  }
  if (strip("/manifests/cluster/endpoint/", &rest))
    return {Kind::kClusterManifest, std::string(rest), {}};
  if (strip("/manifests/cluster/route/", &rest)) return {Kind::kRouteManifest, std::string(rest), {}};
  // Subnets by CIDR; a key not written as subnetKey() writes one is not ours.
  for (Kind kind : {Kind::kSubnetManifest, Kind::kSubnet}) {
    if (!strip(kind == Kind::kSubnet ? "/subnet/" : "/manifests/cluster/subnet/", &rest)) continue;
    std::string cidr = storage::keys::subnetCidr(rest);
    auto canonical = storage::keys::subnetKey(cidr);
    if (!canonical.isOk() || std::string_view(*canonical).substr(8) != rest) return {};
    return {kind, std::move(cidr), {}};
  }
  if (key == "/system/ipam") return {Kind::kIpam, {}, {}};
  return {};
}

// The first `parts` ':'-separated segments of a selflink ("a:b:c", 2 -> "a:b").
inline std::string selflinkPrefix(std::string_view selflink, int parts) {
  size_t pos = 0;
  for (int i = 0; i < parts; ++i) {
    pos = selflink.find(':', pos);
    if (pos == std::string_view::npos) return std::string(selflink);
    if (i + 1 < parts) ++pos;
  }
  return std::string(selflink.substr(0, pos));
}

// The last segment of a selflink.
inline std::string selflinkName(std::string_view selflink) {
  size_t c = selflink.rfind(':');
  return std::string(c == std::string_view::npos ? selflink : selflink.substr(c + 1));
}

}  // namespace lb::controller::detail
