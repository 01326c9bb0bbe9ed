#include "node/host.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace lb::node {

HostFacts readHostFacts(const std::string& storagePath) {
  HostFacts f;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) f.info.hostname = name;
  utsname u{};
  if (uname(&u) == 0) {
    f.info.os = std::string(u.sysname) + " " + u.release;
    f.info.architecture = u.machine;
  }
  // First non-loopback IPv4 address (docker bridges last), else loopback.
  ifaddrs* ifs = nullptr;
  std::string best, bestIface, fallback;
  if (getifaddrs(&ifs) == 0) {
    for (auto* i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      std::string ifname = i->ifa_name;
      if (i->ifa_flags & IFF_LOOPBACK) {
        if (fallback.empty()) fallback = buf;
      } else if (ifname.rfind("docker", 0) == 0 || ifname.rfind("br-", 0) == 0 ||
                 ifname.rfind("veth", 0) == 0) {
        continue;
      } else if (best.empty()) {
        best = buf;
        bestIface = ifname;
      }
    }
    freeifaddrs(ifs);
  }
  f.info.internalIp = best.empty() ? (fallback.empty() ? "127.0.0.1" : fallback) : best;
  f.info.internalIface = bestIface;  // none for the loopback fallback
  f.info.externalIp = f.info.internalIp;

  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  f.capacity.cpu = (cpus > 0 ? cpus : 1) * 1000;
  std::ifstream mem("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (mem >> key >> kb >> unit) {
    if (key == "MemTotal:") {
      f.capacity.ram = kb * 1024;
      break;
    }
  }
  struct statvfs st {};
  if (statvfs(storagePath.empty() ? "/" : storagePath.c_str(), &st) == 0)
    f.capacity.storage = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
  f.capacity.pods = 110;
  return f;
}

types::Labels parseLabels(const std::vector<std::string>& items) {
  types::Labels out;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

}  // namespace lb::node
