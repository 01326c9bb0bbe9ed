#pragma once

// The resolver every pod gets: the cluster's discovery servers that are
// registered, online, ready and heard from lately, on port 53 (a container's
// resolver takes addresses only). The pod's first container (the owner of
// its network namespace, whose resolv.conf the others share) gets them with
// search "<ns>.<domain> <domain>" and ndots:1: `web` goes through the search
// path, an outside name such as example.com costs one query.

#include <chrono>
#include <string>
#include <vector>

#include "lastbackend/common/clock.h"
#include "lastbackend/runtime/cri.h"
#include "lastbackend/types/component.h"

namespace lb::node {

struct PodDns {
  std::vector<std::string> servers;  // IPv4 addresses, by discovery name
  std::string domain;                // the zone, "lb.local"
  bool operator==(const PodDns&) const = default;
};

// A discovery counts when its heartbeat is within `fresh` of `now`.
inline constexpr std::chrono::seconds kDiscoveryFresh{30};

// The usable servers among `registered`; `skipped` gets one line per
// discovery left out for its port (worth a log line).
PodDns choosePodDns(const std::vector<types::Discovery>& registered, Clock::TimePoint now,
                    std::vector<std::string>* skipped = nullptr);

// Sets spec's resolver for a pod of namespace `ns`; nothing without servers.
void applyPodDns(const PodDns& dns, const std::string& ns, runtime::cri::ContainerSpec* spec);

}  // namespace lb::node
