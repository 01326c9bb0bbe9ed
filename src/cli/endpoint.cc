#include "cli/endpoint.h"

namespace lb::cli {

std::string normalizeUrl(std::string url, bool tls) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("https://", 0) == 0) return url;
  if (url.rfind("http://", 0) == 0) return tls ? "https://" + url.substr(7) : url;
  return (tls ? "https://" : "http://") + url;
}

StatusOr<ResolvedEndpoint> resolveEndpoint(const EndpointFlags& flags, const EndpointEnv& env,
                                           const ClusterConfig& clusters) {
  const ClusterEntry* named = nullptr;
  if (!flags.cluster.empty()) {
    named = clusters.find(flags.cluster);
    if (!named) return notFound("cluster `" + flags.cluster + "` not found (see `lb cluster ls`)");
  }
  const ClusterEntry* selected = clusters.selected();

  ResolvedEndpoint r;
  const ClusterEntry* owner = nullptr;  // the stored cluster the URL came from
  if (!flags.host.empty()) {
    r.url = flags.host;
    r.source = "flag";
  } else if (named) {
    r.url = named->endpoint;
    owner = named;
  } else if (!env.host.empty()) {
    r.url = env.host;
    r.source = "env";
  } else if (selected) {
    r.url = selected->endpoint;
    owner = selected;
  } else {
    return invalidArgument(
        "no cluster selected: run `lb cluster add NAME URL --token T` (then `lb cluster select "
        "NAME`), or pass --host / set LB_HOST");
  }
  if (owner) r.source = "cluster " + owner->name;
  // A cluster named by -C also lends its credentials to an explicit --host
  // of the same address.
  if (!owner && named && normalizeUrl(named->endpoint, false) == normalizeUrl(r.url, false))
    owner = named;
  if (!owner && selected && normalizeUrl(selected->endpoint, false) == normalizeUrl(r.url, false))
    owner = selected;

  auto pick = [&](const std::string& flag, const std::string& envValue,
                  std::string ClusterEntry::*field) {
    if (!flag.empty()) return flag;
    if (owner && owner == named && !(owner->*field).empty()) return owner->*field;
    if (!envValue.empty()) return envValue;
    if (owner) return owner->*field;
    return std::string();
  };
  r.token = pick(flags.token, env.token, &ClusterEntry::token);
  r.caFile = pick(flags.caFile, "", &ClusterEntry::caFile);
  r.certFile = pick(flags.certFile, "", &ClusterEntry::certFile);
  r.keyFile = pick(flags.keyFile, "", &ClusterEntry::keyFile);
  bool tls = flags.tls || !flags.caFile.empty() || !flags.certFile.empty();
  r.url = normalizeUrl(r.url, tls);
  return r;
}

}  // namespace lb::cli
