#include "node/pod_dns.h"

#include <arpa/inet.h>

#include <algorithm>

namespace lb::node {

PodDns choosePodDns(const std::vector<types::Discovery>& registered, Clock::TimePoint now,
                    std::vector<std::string>* skipped) {
  std::vector<const types::Discovery*> sorted;
  for (const auto& d : registered) sorted.push_back(&d);
  std::sort(sorted.begin(), sorted.end(),
            [](auto* a, auto* b) { return a->meta.name < b->meta.name; });
  PodDns out;
  for (const auto* d : sorted) {
    if (!d->status.online || !d->status.ready) continue;
    auto beat = parseRfc3339(d->status.heartbeat);
    if (!beat || now - *beat > kDiscoveryFresh) continue;
    in_addr a{};
    if (d->spec.ip.empty() || d->spec.ip == "0.0.0.0" ||
        inet_pton(AF_INET, d->spec.ip.c_str(), &a) != 1)
      continue;
    if (d->spec.port != 53) {
      if (skipped)
        skipped->push_back("discovery '" + d->meta.name + "' listens on port " +
                           std::to_string(d->spec.port) + ", pods can only use port 53");
      continue;
    }
    if (std::find(out.servers.begin(), out.servers.end(), d->spec.ip) != out.servers.end())
      continue;
    out.servers.push_back(d->spec.ip);
    if (out.domain.empty()) out.domain = d->spec.domain;
  }
  if (out.servers.empty()) out.domain.clear();
  return out;
}

void applyPodDns(const PodDns& dns, const std::string& ns, runtime::cri::ContainerSpec* spec) {
  if (dns.servers.empty() || dns.domain.empty()) return;
  spec->dns = dns.servers;
  spec->dnsSearch = {ns + "." + dns.domain, dns.domain};
  spec->dnsOptions = {"ndots:1"};
}

}  // namespace lb::node
