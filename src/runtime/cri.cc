// What every CRI driver shares: the check of a network spec.

#include "lastbackend/runtime/cri.h"

#include "common/ipv4.h"
#include "lastbackend/runtime/cni.h"

namespace lb::runtime::cri {

Status validateNetworkName(std::string_view name, std::string_view field) {
  std::string f(field);
  std::string shown(name.substr(0, 64));
  if (name.empty()) return invalidArgument("network name is empty", f);
  if (name.size() > 64)
    return invalidArgument("network name '" + shown + "...' is over 64 bytes", f);
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) {
      return invalidArgument("network name '" + shown +
                                 "' is not a letter or digit, then letters, digits, '_', '.', '-'",
                             f);
    }
  }
  return Status::ok();
}

Status validateNetworkSpec(const NetworkSpec& s) {
  LB_RETURN_IF_ERROR(validateNetworkName(s.name, "name"));
  const std::string what = "network '" + s.name + "'";
  LB_RETURN_IF_ERROR(cni::validateInterfaceName(s.bridge, "bridge").withContext(what));
  auto p = parseIpv4Prefix(s.subnet, "subnet", 8, 30);
  if (!p) return invalidArgument(what + ": " + p.status().message(), "subnet");
  auto gw = parseIpv4(s.gateway);
  if (!gw || !p->contains(*gw) || *gw == p->network || *gw == p->network + p->size() - 1) {
    return invalidArgument(
        what + ": gateway '" + s.gateway + "' is not a host address of " + s.subnet, "gateway");
  }
  if (s.mtu != 0 && (s.mtu < 68 || s.mtu > 65535))
    return invalidArgument(what + ": MTU " + std::to_string(s.mtu) + " out of range 68-65535",
                           "mtu");
  return Status::ok();
}

}  // namespace lb::runtime::cri
