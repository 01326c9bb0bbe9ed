#pragma once

// Which cluster a command talks to, and with what credentials.
//
// Precedence, field by field: an explicit flag (--host, --token, --tlscacert,
// --tlscert, --tlskey) > the cluster named by -C/--cluster > the environment
// (LB_HOST, LB_TOKEN) > the selected cluster (`lb cluster select`).
// A stored cluster's token and TLS files are only used when the host is that
// cluster's own endpoint, so a token is never sent to another host.

#include <optional>
#include <string>

#include "cli/cluster_store.h"
#include "lastbackend/common/status.h"

namespace lb::cli {

struct EndpointFlags {
  std::string host;      // --host
  std::string token;     // --token
  std::string cluster;   // -C/--cluster
  bool tls = false;      // --tls: https even when the URL says otherwise
  std::string caFile;    // --tlscacert
  std::string certFile;  // --tlscert
  std::string keyFile;   // --tlskey
};

struct EndpointEnv {
  std::string host;   // LB_HOST
  std::string token;  // LB_TOKEN
};

struct ResolvedEndpoint {
  std::string url;  // always with a scheme
  std::string token;
  std::string caFile;
  std::string certFile;
  std::string keyFile;
  std::string source;  // "flag", "cluster <name>", "env": where the URL came from
  bool operator==(const ResolvedEndpoint&) const = default;
};

// kNotFound when -C names an unknown cluster; kInvalidArgument ("no cluster
// selected ...") when nothing gives a host.
StatusOr<ResolvedEndpoint> resolveEndpoint(const EndpointFlags& flags, const EndpointEnv& env,
                                           const ClusterConfig& clusters);

// "127.0.0.1:2967" -> "http://127.0.0.1:2967" ("https://" when tls); an
// existing scheme is kept, except that tls turns http:// into https://.
std::string normalizeUrl(std::string url, bool tls);

}  // namespace lb::cli
