#include "lastbackend/types/manifest.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lastbackend/types/validation.h"
#include "types/fields.h"
#include "types/manifest_trees.h"

namespace lb::types {

using detail::DecodeContext;
using detail::fieldError;
using detail::Json;
using detail::Mode;

namespace {

constexpr const char* kKindNames[] = {"Namespace", "Service", "Secret",
                                      "Config",    "Route",   "Volume"};

ManifestSpec emptySpecFor(Kind kind) {
  switch (kind) {
    case Kind::kNamespace:
      return NamespaceSpec{};
    case Kind::kService:
      return ServiceSpec{};
    case Kind::kSecret:
    case Kind::kConfig:
      return DataManifestSpec{};
    case Kind::kRoute:
      return RouteSpec{};
    case Kind::kVolume:
      return VolumeSpec{};
  }
  return ServiceSpec{};
}

// The envelope: kind first (it decides the spec type), then the rest.
Status decodeDocument(const Json& j, const DecodeContext& ctx, Document* doc) {
  if (!j.is_object()) return fieldError("", "expected a mapping with kind, version, meta and spec");
  for (const auto& [k, v] : j.items())
    if (k != "kind" && k != "version" && k != "meta" && k != "spec")
      return fieldError(k, "unknown field");
  auto member = [&](const char* key) -> const Json* {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  };
  const Json* kind = member("kind");
  if (!kind) return fieldError("kind", "required");
  std::string kindText;
  LB_RETURN_IF_ERROR(detail::decode(*kind, kindText, "kind", ctx, 0));
  auto k = parseKind(kindText);
  if (!k)
    return Status(Code::kInvalidArgument,
                  "unknown kind '" + kindText +
                      "' (valid: Namespace, Service, Secret, Config, Route, Volume)",
                  "kind");
  doc->kind = *k;
  const Json* version = member("version");
  if (!version) return fieldError("version", "required");
  LB_RETURN_IF_ERROR(detail::decode(*version, doc->version, "version", ctx, 0));
  doc->meta = ManifestMeta{};
  if (const Json* meta = member("meta"))
    LB_RETURN_IF_ERROR(detail::decode(*meta, doc->meta, "meta", ctx, 0));
  doc->spec = emptySpecFor(*k);
  if (const Json* spec = member("spec")) {
    return std::visit([&](auto& s) { return detail::decode(*spec, s, "spec", ctx, 0); }, doc->spec);
  }
  return Status::ok();
}

Status readFile(const std::string& baseDir, const std::string& name, size_t maxBytes,
                const std::string& field, std::string* out) {
  namespace fs = std::filesystem;
  fs::path p(name);
  if (p.is_relative()) p = fs::path(baseDir) / p;
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) return fieldError(field, "cannot read '" + name + "': " + ec.message());
  if (size > maxBytes)
    return Status(Code::kTooLarge,
                  "file '" + name + "' exceeds " + std::to_string(maxBytes) + " bytes", field);
  std::ifstream in(p, std::ios::binary);
  if (!in) return fieldError(field, "cannot read '" + name + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return Status::ok();
}

// `file:` items become values, so a parsed document is self-contained.
Status resolveFiles(Document* doc, const ParseOptions& opts) {
  auto* spec = std::get_if<DataManifestSpec>(&doc->spec);
  if (!spec) return Status::ok();
  for (size_t i = 0; i < spec->data.size(); ++i) {
    DataItem& d = spec->data[i];
    if (!d.file) continue;
    std::string content;
    LB_RETURN_IF_ERROR(readFile(opts.baseDir, *d.file, opts.maxBytes,
                                detail::childPath(detail::indexPath("spec.data", i), "file"),
                                &content));
    // Config data is text on the wire; binary files belong in secrets (base64).
    if (doc->kind == Kind::kConfig && !detail::checkUtf8(content).isOk())
      return fieldError(
          detail::childPath(detail::indexPath("spec.data", i), "file"),
          "config files must be UTF-8 text; use a secret of type file for binary data");
    d.value = std::move(content);
    d.file.reset();
  }
  return Status::ok();
}

bool looksLikeJson(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

Json encodeDocument(const Document& doc) {
  Json j = Json::object();
  j["kind"] = kindName(doc.kind);
  j["version"] = doc.version;
  j["meta"] = detail::encode(doc.meta, Mode::kManifest, 0);
  j["spec"] =
      std::visit([](const auto& s) { return detail::encode(s, Mode::kManifest, 0); }, doc.spec);
  return j;
}

// Checks the kind and fills the identity every converted object shares.
template <class Spec>
StatusOr<const Spec*> prepare(const Document& doc, Kind expected, std::string_view ns, Meta* meta) {
  if (doc.kind != expected)
    return fieldError(
        "kind", std::string("expected kind ") + kindName(expected) + ", got " + kindName(doc.kind));
  const Spec* spec = std::get_if<Spec>(&doc.spec);
  if (!spec) return fieldError("spec", "does not match kind " + std::string(kindName(doc.kind)));
  meta->name = doc.meta.name;
  meta->description = doc.meta.description;
  meta->labels = doc.meta.labels;
  if (expected == Kind::kNamespace) {
    meta->selflink = namespaceSelflink(doc.meta.name);
  } else {
    meta->namespace_ = std::string(ns);
    meta->selflink = objectSelflink(ns, doc.meta.name);
  }
  return spec;
}

template <class Object>
Status dataFromDocument(const Document& doc, Kind kind, std::string_view ns, Object* out) {
  Object obj;
  auto spec = prepare<DataManifestSpec>(doc, kind, ns, &obj.meta);
  if (!spec.isOk()) return spec.status();
  obj.spec.type = (*spec)->type;
  for (const DataItem& d : (*spec)->data) {
    if (d.file) return fieldError("spec.data", "file '" + *d.file + "' was not resolved");
    obj.spec.data[d.key] = d.value.value_or("");
  }
  *out = std::move(obj);
  return Status::ok();
}

template <class Object, class Spec>
Status plainFromDocument(const Document& doc, Kind kind, std::string_view ns, Object* out) {
  Object obj;
  auto spec = prepare<Spec>(doc, kind, ns, &obj.meta);
  if (!spec.isOk()) return spec.status();
  obj.spec = **spec;
  *out = std::move(obj);
  return Status::ok();
}

Document documentFor(Kind kind, const Meta& meta, ManifestSpec spec) {
  Document doc;
  doc.kind = kind;
  doc.meta = ManifestMeta{meta.name, meta.description, meta.labels};
  doc.spec = std::move(spec);
  return doc;
}

template <class Object>
Document dataDocument(Kind kind, const Object& obj) {
  DataManifestSpec spec;
  spec.type = obj.spec.type;
  for (const auto& [k, v] : obj.spec.data) spec.data.push_back(DataItem{k, v, std::nullopt});
  return documentFor(kind, obj.meta, std::move(spec));
}

}  // namespace

const char* kindName(Kind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<Kind> parseKind(std::string_view text) {
  for (int i = 0; i < static_cast<int>(std::size(kKindNames)); ++i)
    if (text == kKindNames[i]) return static_cast<Kind>(i);
  return std::nullopt;
}

StatusOr<std::vector<Document>> parseManifests(std::string_view text, const ParseOptions& opts) {
  detail::ManifestTrees trees;
  LB_RETURN_IF_ERROR(detail::parseManifestTrees(text, opts.maxBytes, &trees));
  return detail::decodeManifestTrees(trees, opts);
}

namespace detail {

Status parseManifestTrees(std::string_view text, size_t maxBytes, ManifestTrees* out) {
  std::vector<Json> trees;
  out->yaml = false;
  if (looksLikeJson(text)) {
    Json tree;
    Status s = parseJsonTree(text, maxBytes, &tree);
    if (s.isOk()) {
      if (tree.is_array()) {
        for (auto& t : tree) trees.push_back(std::move(t));
      } else {
        trees.push_back(std::move(tree));
      }
    } else if (s.code() == Code::kTooLarge) {
      return s;
    } else {
      // YAML flow style also starts with '{'; report the JSON error only if
      // the text is not YAML either.
      out->yaml = true;
      if (!parseYamlTree(text, maxBytes, &trees).isOk()) return s;
    }
  } else {
    out->yaml = true;
    LB_RETURN_IF_ERROR(parseYamlTree(text, maxBytes, &trees));
  }
  out->docs.clear();
  for (auto& t : trees)
    if (!t.is_null()) out->docs.push_back(std::move(t));  // "---" separators around nothing
  return Status::ok();
}

StatusOr<std::vector<Document>> decodeManifestTrees(const ManifestTrees& trees,
                                                    const ParseOptions& opts) {
  DecodeContext ctx;
  ctx.yaml = trees.yaml;
  const size_t count = trees.docs.size();
  std::vector<Document> docs;
  for (size_t i = 0; i < count; ++i) {
    Document doc;
    Status s = decodeDocument(trees.docs[i], ctx, &doc);
    if (s.isOk()) s = validateDocument(doc);
    if (s.isOk()) s = resolveFiles(&doc, opts);
    if (!s.isOk()) return count > 1 ? s.withContext("document " + std::to_string(i + 1)) : s;
    docs.push_back(std::move(doc));
  }
  if (docs.empty()) return fieldError("", "no manifest documents found");
  return docs;
}

}  // namespace detail

std::string toManifestYaml(const Document& doc) { return detail::dumpYaml(encodeDocument(doc)); }
std::string toManifestJson(const Document& doc, bool pretty) {
  return detail::dumpJson(encodeDocument(doc), pretty);
}

Status fromDocument(const Document& doc, Namespace* out) {
  return plainFromDocument<Namespace, NamespaceSpec>(doc, Kind::kNamespace, "", out);
}
Status fromDocument(const Document& doc, std::string_view ns, Service* out) {
  return plainFromDocument<Service, ServiceSpec>(doc, Kind::kService, ns, out);
}
Status fromDocument(const Document& doc, std::string_view ns, Route* out) {
  return plainFromDocument<Route, RouteSpec>(doc, Kind::kRoute, ns, out);
}
Status fromDocument(const Document& doc, std::string_view ns, Volume* out) {
  return plainFromDocument<Volume, VolumeSpec>(doc, Kind::kVolume, ns, out);
}
Status fromDocument(const Document& doc, std::string_view ns, Secret* out) {
  return dataFromDocument(doc, Kind::kSecret, ns, out);
}
Status fromDocument(const Document& doc, std::string_view ns, Config* out) {
  return dataFromDocument(doc, Kind::kConfig, ns, out);
}

Document toDocument(const Namespace& ns) { return documentFor(Kind::kNamespace, ns.meta, ns.spec); }
Document toDocument(const Service& svc) { return documentFor(Kind::kService, svc.meta, svc.spec); }
Document toDocument(const Route& route) {
  return documentFor(Kind::kRoute, route.meta, route.spec);
}
Document toDocument(const Volume& vol) { return documentFor(Kind::kVolume, vol.meta, vol.spec); }
Document toDocument(const Secret& secret) { return dataDocument(Kind::kSecret, secret); }
Document toDocument(const Config& config) { return dataDocument(Kind::kConfig, config); }

StatusOr<ServiceDiff> applyManifest(const Document& doc, Service* svc) {
  Service next;
  LB_RETURN_IF_ERROR(fromDocument(doc, svc->meta.namespace_, &next));
  if (next.meta.name != svc->meta.name)
    return fieldError("meta.name", "manifest is for service '" + next.meta.name + "', not '" +
                                       svc->meta.name + "'");
  ServiceDiff diff;
  diff.metaChanged =
      next.meta.description != svc->meta.description || next.meta.labels != svc->meta.labels;
  diff.replicasChanged = next.spec.replicas != svc->spec.replicas;
  diff.specChanged = !(next.spec == svc->spec);
  diff.templateChanged = templateHash(next.spec.template_) != templateHash(svc->spec.template_);
  svc->meta.description = std::move(next.meta.description);
  svc->meta.labels = std::move(next.meta.labels);
  svc->spec = std::move(next.spec);
  return diff;
}

}  // namespace lb::types
