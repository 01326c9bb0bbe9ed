#pragma once

// The clusters `lb` knows (`lb cluster add/select/ls/del`), kept in
// <home>/.lastbackend/config.yml. The directory is created 0700 and the file
// written 0600 (it holds tokens), atomically (temp file + rename), so a crash
// never leaves half a file. Not thread-safe; one CLI process at a time.
//
//   current: local
//   clusters:
//     - name: local
//       endpoint: http://127.0.0.1:2967
//       token: secret
//       tls: {cacert: "", cert: "", key: ""}

#include <optional>
#include <string>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::cli {

struct ClusterEntry {
  std::string name;
  std::string endpoint;  // http(s)://host:port
  std::string token;
  std::string caFile;
  std::string certFile;
  std::string keyFile;
  bool operator==(const ClusterEntry&) const = default;
};

struct ClusterConfig {
  std::string current;  // name of the selected cluster, or empty
  std::vector<ClusterEntry> clusters;

  const ClusterEntry* find(const std::string& name) const;
  const ClusterEntry* selected() const { return current.empty() ? nullptr : find(current); }
};

class ClusterStore {
 public:
  // `home` is the user's home directory ($HOME); the file is home/.lastbackend/config.yml.
  explicit ClusterStore(std::string home);

  const std::string& path() const { return path_; }

  // A missing file is an empty config; a malformed one is kInvalidArgument.
  StatusOr<ClusterConfig> load() const;
  Status save(const ClusterConfig& config) const;

  // kAlreadyExists when the name is taken. The first cluster added is selected.
  Status add(const ClusterEntry& entry);
  // kNotFound for an unknown name.
  Status select(const std::string& name);
  // kNotFound for an unknown name; deleting the selected one clears the selection.
  Status remove(const std::string& name);

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace lb::cli
