#include "cli/context.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lb::cli {

StatusOr<Api*> Context::api() {
  if (api_) return api_.get();
  auto config = store_.load();
  if (!config.isOk()) return config.status();
  auto endpoint = resolveEndpoint(flags, {env_.lbHost, env_.lbToken}, *config);
  if (!endpoint.isOk()) return endpoint.status();
  auto api = Api::connect(*endpoint);
  if (!api.isOk()) return api.status();
  api_ = std::move(*api);
  return api_.get();
}

StatusOr<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalidArgument("cannot read `" + path + "`: " + std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

StatusOr<std::vector<types::Document>> parseManifestFile(const std::string& path,
                                                         const std::string& text) {
  types::ParseOptions opts;
  opts.baseDir = std::filesystem::path(path).parent_path().string();
  if (opts.baseDir.empty()) opts.baseDir = ".";
  auto docs = types::parseManifests(text, opts);
  if (!docs.isOk()) {
    const Status& s = docs.status();
    return Status(s.code(), path + ": " + s.message(), s.field());
  }
  return docs;
}

StatusOr<types::Document> singleDocument(const std::string& file, types::Kind kind,
                                         const std::string& name) {
  LB_ASSIGN_OR_RETURN_STATUS(text, readFile(file));
  LB_ASSIGN_OR_RETURN_STATUS(docs, parseManifestFile(file, text));
  if (docs.size() != 1 || docs[0].kind != kind)
    return invalidArgument(file + ": expected exactly one " + types::kindName(kind) + " document");
  types::Document doc = std::move(docs[0]);
  if (!name.empty() && doc.meta.name != name)
    return invalidArgument(file + ": the manifest names `" + doc.meta.name + "`, not `" + name +
                           "`");
  return doc;
}

Status removeObject(Context& c, const std::string& path, std::string_view kind,
                    const std::string& name) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(answer, api->call("DELETE", path));
  (void)answer;
  c.out << actionLine(kind, name, "removed");
  return Status::ok();
}

}  // namespace lb::cli
