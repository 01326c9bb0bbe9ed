#include "runtime/cpi/ipvs/ipvs_cpi.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace lb::runtime::cpi::ipvs {
namespace {

constexpr const char* kProc = "/proc/net/ip_vs";

void modprobe() {
  for (const char* path : {"/usr/sbin/modprobe", "/sbin/modprobe"}) {
    if (::access(path, X_OK) != 0) continue;
    char* argv[] = {const_cast<char*>(path), const_cast<char*>("-q"), const_cast<char*>("ip_vs"),
                    nullptr};
    char* envp[] = {nullptr};
    pid_t pid = -1;
    if (::posix_spawn(&pid, path, nullptr, nullptr, argv, envp) != 0) return;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return;
  }
}

}  // namespace

bool kernelHasIpvs(bool load) {
  if (::access(kProc, F_OK) == 0) return true;
  if (!load) return false;
  modprobe();
  return ::access(kProc, F_OK) == 0;
}

StatusOr<std::unique_ptr<ProxyRuntime>> open(bool (*hasIpvs)(bool load)) {
  if (!hasIpvs(true)) {
    return invalidArgument(
        "this kernel has no IPVS (no /proc/net/ip_vs, and module ip_vs does not load); use "
        "--network-proxy nftables",
        "network.cpi.type");
  }
  return Status(Code::kUnsupported,
                "this build has no ipvs proxy driver; use --network-proxy nftables",
                "network.cpi.type");
}

}  // namespace lb::runtime::cpi::ipvs
