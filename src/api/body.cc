#include "api/body.h"

#include <strings.h>

#include "lastbackend/types/validation.h"
// The types library's own text->tree parsers (size and depth caps, UTF-8
// checks) and its decoder of those trees: the file-reference scan sees
// exactly the trees that are decoded, and the text is parsed once.
#include "types/manifest_trees.h"
#include "types/tree.h"

namespace lb::api {

using types::detail::Json;

namespace {

// The media type of a Content-Type header, lower-cased, without parameters.
std::optional<std::string> mediaType(const http::Request& req) {
  auto ct = req.header("Content-Type");
  if (!ct) return std::nullopt;
  std::string t = ct->substr(0, ct->find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
  size_t start = t.find_first_not_of(" \t");
  t = start == std::string::npos ? "" : t.substr(start);
  for (char& c : t) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return t;
}

// "spec.data[i].file" of the first file reference in one document, or "".
std::string fileReference(const Json& doc) {
  if (!doc.is_object()) return "";
  auto spec = doc.find("spec");
  if (spec == doc.end() || !spec->is_object()) return "";
  auto data = spec->find("data");
  if (data == spec->end() || !data->is_array()) return "";
  for (size_t i = 0; i < data->size(); ++i) {
    const Json& item = (*data)[i];
    if (item.is_object() && item.contains("file") && !item["file"].is_null())
      return "spec.data[" + std::to_string(i) + "].file";
  }
  return "";
}

Status fileReferenceError(const std::string& field) {
  return invalidArgument(
      "file references are not read by the API server; inline the file content as 'value'", field);
}

Status typeError(const std::string& field, const char* expected) {
  return invalidArgument(std::string("expected ") + expected, field);
}

// The first file reference in `docs` (document trees) as the error.
Status scanFileReferences(const std::vector<Json>& docs) {
  for (size_t i = 0; i < docs.size(); ++i) {
    std::string field = fileReference(docs[i]);
    if (field.empty()) continue;
    Status s = fileReferenceError(field);
    return docs.size() > 1 ? s.withContext("document " + std::to_string(i + 1)) : s;
  }
  return Status::ok();
}

}  // namespace

Status rejectFileReferences(std::string_view text) {
  types::detail::ManifestTrees trees;
  if (!types::detail::parseManifestTrees(text, types::kMaxDocumentBytes, &trees).isOk())
    return Status::ok();
  return scanFileReferences(trees.docs);
}

Status checkManifestContentType(const http::Request& req) {
  auto type = mediaType(req);
  if (!type) return Status::ok();
  static const char* const kAllowed[] = {"application/yaml", "text/yaml", "application/x-yaml",
                                         "application/json", "text/plain"};
  for (const char* a : kAllowed)
    if (*type == a) return Status::ok();
  return Status(Code::kUnsupported,
                "unsupported Content-Type '" + *type +
                    "' (valid: application/yaml, text/yaml, application/x-yaml, "
                    "application/json, text/plain)");
}

StatusOr<std::vector<types::Document>> decodeManifests(std::string_view text) {
  // One parse: the trees are scanned for file references, then decoded.
  types::detail::ManifestTrees trees;
  LB_RETURN_IF_ERROR(types::detail::parseManifestTrees(text, types::kMaxDocumentBytes, &trees));
  LB_RETURN_IF_ERROR(scanFileReferences(trees.docs));
  return types::detail::decodeManifestTrees(trees, {});
}

StatusOr<ManifestBody> decodeManifestBody(const http::Request& req, types::Kind expected,
                                          std::string_view ns, std::string_view pathName) {
  LB_RETURN_IF_ERROR(requireJsonBody(req));
  Json tree;
  LB_RETURN_IF_ERROR(types::detail::parseJsonTree(req.body, types::kMaxDocumentBytes, &tree));
  if (!tree.is_object()) return invalidArgument("expected a JSON object (a manifest)", "");

  const std::string kindName = types::kindName(expected);
  auto kind = tree.find("kind");
  if (kind == tree.end() || kind->is_null()) {
    tree["kind"] = kindName;
  } else if (!kind->is_string()) {
    return typeError("kind", "a string");
  } else if (kind->get<std::string>() != kindName) {
    std::string got = kind->get<std::string>();
    return invalidArgument(types::parseKind(got)
                               ? "expected kind " + kindName + ", got " + got
                               : "unknown kind '" + got + "' (expected " + kindName + ")",
                           "kind");
  }
  if (!tree.contains("version") || tree["version"].is_null()) tree["version"] = "v1";

  ManifestBody out;
  if (!tree.contains("meta") || tree["meta"].is_null()) tree["meta"] = Json::object();
  Json& meta = tree["meta"];
  if (!meta.is_object()) return typeError("meta", "a mapping");
  if (auto r = meta.find("revision"); r != meta.end()) {
    if (!r->is_number_integer() || r->get<int64_t>() < 0)
      return typeError("meta.revision", "a non-negative integer");
    if (r->get<int64_t>() > 0) out.revision = r->get<int64_t>();
    meta.erase("revision");
  }
  if (auto n = meta.find("namespace"); n != meta.end()) {
    if (!n->is_string()) return typeError("meta.namespace", "a string");
    if (!n->get<std::string>().empty() && n->get<std::string>() != ns)
      return invalidArgument(
          "object is for namespace '" + n->get<std::string>() + "', not '" + std::string(ns) + "'",
          "meta.namespace");
    meta.erase("namespace");
  }
  if (!pathName.empty()) {
    auto n = meta.find("name");
    if (n == meta.end() || n->is_null()) {
      meta["name"] = std::string(pathName);
    } else if (!n->is_string()) {
      return typeError("meta.name", "a string");
    } else if (n->get<std::string>() != pathName) {
      return invalidArgument("body names '" + n->get<std::string>() + "', the path '" +
                                 std::string(pathName) + "'; renaming is not supported",
                             "meta.name");
    }
  }
  if (std::string field = fileReference(tree); !field.empty()) return fileReferenceError(field);

  types::detail::ManifestTrees trees;
  trees.docs.push_back(std::move(tree));
  auto docs = types::detail::decodeManifestTrees(trees, {});
  if (!docs.isOk()) return docs.status();
  out.doc = std::move(docs->front());
  return out;
}

StatusOr<NamespaceBody> decodeNamespaceBody(const http::Request& req, bool create) {
  LB_RETURN_IF_ERROR(requireJsonBody(req));
  Json tree;
  LB_RETURN_IF_ERROR(types::detail::parseJsonTree(req.body, types::kMaxDocumentBytes, &tree));
  if (!tree.is_object()) return invalidArgument("expected a JSON object", "");
  NamespaceBody out;
  for (auto& [key, value] : tree.items()) {
    if (key == "name" && create) {
      if (!value.is_string()) return typeError("name", "a string");
      out.name = value.get<std::string>();
    } else if (key == "description") {
      if (value.is_null()) continue;
      if (!value.is_string()) return typeError("description", "a string");
      out.description = value.get<std::string>();
    } else if (key == "labels") {
      if (value.is_null()) continue;
      if (!value.is_object()) return typeError("labels", "a mapping of strings");
      std::map<std::string, std::string> labels;
      for (auto& [k, v] : value.items()) {
        if (!v.is_string()) return typeError("labels." + k, "a string");
        if (k.empty() || k.size() > 253)
          return invalidArgument("label keys must be 1-253 characters", "labels");
        labels[k] = v.get<std::string>();
      }
      out.labels = std::move(labels);
    } else if (key == "revision" && !create) {
      if (!value.is_number_integer() || value.get<int64_t>() < 0)
        return typeError("revision", "a non-negative integer");
      if (value.get<int64_t>() > 0) out.revision = value.get<int64_t>();
    } else {
      return invalidArgument("unknown field", key);
    }
  }
  if (create) LB_RETURN_IF_ERROR(types::validateName(out.name, "name"));
  return out;
}

StatusOr<std::string> decodeRollbackBody(const http::Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return std::string();
  LB_RETURN_IF_ERROR(requireJsonBody(req));
  Json tree;
  LB_RETURN_IF_ERROR(types::detail::parseJsonTree(req.body, types::kMaxDocumentBytes, &tree));
  if (!tree.is_object()) return invalidArgument("expected a JSON object", "");
  std::string out;
  for (auto& [key, value] : tree.items()) {
    if (key != "deployment") return invalidArgument("unknown field", key);
    if (value.is_null()) continue;
    if (!value.is_string()) return typeError("deployment", "a string");
    out = value.get<std::string>();
    LB_RETURN_IF_ERROR(types::validateName(out, "deployment"));
  }
  return out;
}

Status requireJsonBody(const http::Request& req) {
  auto type = mediaType(req);
  if (!type || *type == "application/json") return Status::ok();
  return Status(Code::kUnsupported,
                "unsupported Content-Type '" + *type + "' (valid: application/json)");
}

}  // namespace lb::api
