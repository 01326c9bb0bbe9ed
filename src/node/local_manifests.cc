// Local manifests (--manifest-path): Service, Secret and Config documents
// of the files in a directory, run as pods of namespace "local" without a
// cluster.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lastbackend/types/manifest.h"
#include "node/agent.h"

namespace lb::node {

namespace {

// The service's replicas as pods "local:<svc>:local:<i>".
void addLocalPods(const types::Service& svc, NodeManifest* out) {
  const std::string ns = "local";
  int replicas = std::max(1, svc.spec.replicas);
  for (int i = 0; i < replicas; ++i) {
    types::Pod p;
    p.meta.name = std::to_string(i);
    p.meta.namespace_ = ns;
    p.meta.selflink = types::podSelflink(ns, svc.meta.name, "local", p.meta.name);
    p.spec.template_ = svc.spec.template_;
    out->pods[p.meta.selflink] = p;
  }
}

Status addDocuments(const std::filesystem::path& f, NodeManifest* out) {
  const std::string ns = "local";
  std::ifstream in(f);
  if (!in) return unavailable("cannot read '" + f.string() + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  types::ParseOptions po;
  po.baseDir = f.parent_path().string();
  auto docs = types::parseManifests(ss.str(), po);
  if (!docs.isOk()) return docs.status();
  for (const auto& d : *docs) {
    if (d.kind == types::Kind::kSecret) {
      types::Secret s;
      LB_RETURN_IF_ERROR(types::fromDocument(d, ns, &s));
      out->secrets[ns + ":" + s.meta.name] = s;
    } else if (d.kind == types::Kind::kConfig) {
      types::Config c;
      LB_RETURN_IF_ERROR(types::fromDocument(d, ns, &c));
      out->configs[ns + ":" + c.meta.name] = c;
    } else if (d.kind == types::Kind::kService) {
      types::Service svc;
      LB_RETURN_IF_ERROR(types::fromDocument(d, ns, &svc));
      addLocalPods(svc, out);
    }
  }
  return Status::ok();
}

}  // namespace

StatusOr<NodeManifest> loadLocalManifests(const std::string& dir) {
  namespace fs = std::filesystem;
  NodeManifest out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;  // none yet
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yml" || ext == ".yaml" || ext == ".json"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (Status s = addDocuments(f, &out); !s.isOk())
      return s.withContext("local manifest '" + f.string() + "'");
  }
  return out;
}

}  // namespace lb::node
