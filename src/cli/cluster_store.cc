#include "cli/cluster_store.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "lastbackend/common/file.h"

namespace lb::cli {
namespace {

std::string errnoText() { return std::strerror(errno); }

std::string scalar(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

}  // namespace

const ClusterEntry* ClusterConfig::find(const std::string& name) const {
  for (const auto& c : clusters)
    if (c.name == name) return &c;
  return nullptr;
}

ClusterStore::ClusterStore(std::string home)
    : dir_(std::move(home) + "/.lastbackend"), path_(dir_ + "/config.yml") {}

StatusOr<ClusterConfig> ClusterStore::load() const {
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) return ClusterConfig{};
    return Status(Code::kUnavailable, "cannot read " + path_ + ": " + errnoText());
  }
  std::stringstream text;
  text << in.rdbuf();
  ClusterConfig config;
  try {
    YAML::Node root = YAML::Load(text.str());
    if (!root || root.IsNull()) return config;
    if (!root.IsMap()) return invalidArgument(path_ + ": expected a mapping");
    config.current = scalar(root, "current");
    if (YAML::Node list = root["clusters"]) {
      if (!list.IsSequence()) return invalidArgument(path_ + ": `clusters` must be a list");
      for (const auto& item : list) {
        if (!item.IsMap()) return invalidArgument(path_ + ": a cluster must be a mapping");
        ClusterEntry e;
        e.name = scalar(item, "name");
        e.endpoint = scalar(item, "endpoint");
        e.token = scalar(item, "token");
        if (YAML::Node tls = item["tls"]; tls && tls.IsMap()) {
          e.caFile = scalar(tls, "cacert");
          e.certFile = scalar(tls, "cert");
          e.keyFile = scalar(tls, "key");
        }
        config.clusters.push_back(std::move(e));
      }
    }
  } catch (const YAML::Exception& e) {
    return invalidArgument(path_ + ": " + e.what());
  }
  return config;
}

Status ClusterStore::save(const ClusterConfig& config) const {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST)
    return Status(Code::kUnavailable, "cannot create " + dir_ + ": " + errnoText());
  ::chmod(dir_.c_str(), 0700);

  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "current" << YAML::Value << config.current;
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq;
  for (const auto& c : config.clusters) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << c.name;
    out << YAML::Key << "endpoint" << YAML::Value << c.endpoint;
    out << YAML::Key << "token" << YAML::Value << c.token;
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "cacert" << YAML::Value << c.caFile;
    out << YAML::Key << "cert" << YAML::Value << c.certFile;
    out << YAML::Key << "key" << YAML::Value << c.keyFile;
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  std::string text = std::string(out.c_str()) + "\n";

  return writeFileAtomic(path_, text, 0600);
}

Status ClusterStore::add(const ClusterEntry& entry) {
  auto config = load();
  if (!config.isOk()) return config.status();
  if (config->find(entry.name)) return alreadyExists("cluster `" + entry.name + "` already exists");
  config->clusters.push_back(entry);
  if (config->current.empty()) config->current = entry.name;
  return save(*config);
}

Status ClusterStore::select(const std::string& name) {
  auto config = load();
  if (!config.isOk()) return config.status();
  if (!config->find(name)) return notFound("cluster `" + name + "` not found");
  config->current = name;
  return save(*config);
}

Status ClusterStore::remove(const std::string& name) {
  auto config = load();
  if (!config.isOk()) return config.status();
  auto& list = config->clusters;
  auto it =
      std::find_if(list.begin(), list.end(), [&](const ClusterEntry& c) { return c.name == name; });
  if (it == list.end()) return notFound("cluster `" + name + "` not found");
  list.erase(it);
  if (config->current == name) config->current.clear();
  return save(*config);
}

}  // namespace lb::cli
