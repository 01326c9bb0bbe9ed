// What every CNI driver shares: interface names, VTEP MACs, manifest checks.

#include "lastbackend/runtime/cni.h"

#include <cstdio>

#include "common/ipv4.h"

namespace lb::runtime::cni {

Status validateInterfaceName(std::string_view name, std::string_view what) {
  std::string w(what);
  std::string shown(name.substr(0, 32));
  if (name.empty()) return invalidArgument(w + " interface name is empty", w);
  // The kernel keeps IFNAMSIZ (16) bytes with the NUL.
  if (name.size() > 15)
    return invalidArgument(w + " interface name '" + shown + "' is longer than 15 bytes", w);
  if (name == "." || name == "..")
    return invalidArgument(w + " interface name '" + shown + "' is not allowed", w);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) {
      return invalidArgument(w + " interface name '" + shown +
                                 "' has a character other than letters, digits, '.', '-', '_'",
                             w);
    }
  }
  return Status::ok();
}

StatusOr<std::string> vtepMac(std::string_view cidr) {
  auto p = parseIpv4Prefix(cidr, "subnet");
  if (!p) return p.status();
  char buf[18];
  std::snprintf(buf, sizeof buf, "0a:58:%02x:%02x:%02x:%02x", (p->network >> 24) & 255,
                (p->network >> 16) & 255, (p->network >> 8) & 255, p->network & 255);
  return std::string(buf);
}

Status validateManifest(const SubnetManifest& manifest, std::string_view driver, bool local) {
  if (!manifest.type.empty() && manifest.type != driver) {
    return invalidArgument(
        "subnet type '" + manifest.type + "' is not this driver's ('" + std::string(driver) + "')",
        "type");
  }
  auto p = parseIpv4Prefix(manifest.cidr, "subnet", 8, 30);
  if (!p) return invalidArgument(p.status().message(), "cidr");
  if (!manifest.hwaddr.empty() && manifest.hwaddr != *vtepMac(manifest.cidr)) {
    return invalidArgument("subnet '" + manifest.cidr + "': VTEP MAC '" + manifest.hwaddr +
                               "' is not the subnet's (" + *vtepMac(manifest.cidr) + ")",
                           "hwaddr");
  }
  if (!manifest.addr.empty() || !local) {
    if (!parseIpv4(manifest.addr)) {
      return invalidArgument("subnet '" + manifest.cidr + "': node address '" + manifest.addr +
                                 "' is not an IPv4 address",
                             "addr");
    }
  }
  return Status::ok();
}

}  // namespace lb::runtime::cni
