#pragma once

// User manifests (`lb namespace apply -f`): one or more YAML documents (or a
// JSON object / array of objects) of the form
//
//   kind: Service        # Namespace | Service | Secret | Config | Route | Volume
//   version: v1
//   meta: {name: web, description: ..., labels: {...}}
//   spec: {...}
//
// Parsing validates everything (see validation.h); errors are
// kInvalidArgument with field() naming the path inside the document
// ("spec.template.containers[0].image.name") and, for multi-document input,
// the message prefixed with "document N". Secret/Config `file:` items are read
// relative to ParseOptions::baseDir and inlined as values.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/types/codec.h"

namespace lb::types {

enum class Kind { kNamespace, kService, kSecret, kConfig, kRoute, kVolume };

const char* kindName(Kind kind);  // "Service"
std::optional<Kind> parseKind(std::string_view text);

struct ManifestMeta {
  std::string name;
  std::string description;
  Labels labels;
  bool operator==(const ManifestMeta&) const = default;
};

// One `spec.data` item of a Secret/Config manifest: exactly one of value/file.
struct DataItem {
  std::string key;
  std::optional<std::string> value;
  std::optional<std::string> file;  // resolved into `value` by parseManifests
  bool operator==(const DataItem&) const = default;
};

struct DataManifestSpec {
  std::string type = kSecretText;  // text | file (| auth for secrets)
  std::vector<DataItem> data;
  bool operator==(const DataManifestSpec&) const = default;
};

using ManifestSpec =
    std::variant<NamespaceSpec, ServiceSpec, DataManifestSpec, RouteSpec, VolumeSpec>;

struct Document {
  Kind kind = Kind::kService;
  std::string version = "v1";
  ManifestMeta meta;
  ManifestSpec spec;  // matches kind; Secret and Config both use DataManifestSpec
  bool operator==(const Document&) const = default;
};

struct ParseOptions {
  std::string baseDir = ".";  // where relative `file:` paths are resolved
  size_t maxBytes = kMaxDocumentBytes;
};

// Parses and validates all documents. Empty YAML documents are skipped.
StatusOr<std::vector<Document>> parseManifests(std::string_view text,
                                               const ParseOptions& options = {});

// Manifest form of a document (YAML, or JSON when json=true); parseManifests
// of the output yields the document again.
std::string toManifestYaml(const Document& doc);
std::string toManifestJson(const Document& doc, bool pretty = false);

// Manifest -> object. `ns` is the target namespace (ignored for Namespace).
// kInvalidArgument (field "kind") when the document has another kind.
Status fromDocument(const Document& doc, Namespace* out);
Status fromDocument(const Document& doc, std::string_view ns, Service* out);
Status fromDocument(const Document& doc, std::string_view ns, Secret* out);
Status fromDocument(const Document& doc, std::string_view ns, Config* out);
Status fromDocument(const Document& doc, std::string_view ns, Route* out);
Status fromDocument(const Document& doc, std::string_view ns, Volume* out);

// Object -> manifest (for export / `-o yaml` of user intent).
Document toDocument(const Namespace& ns);
Document toDocument(const Service& svc);
Document toDocument(const Secret& secret);
Document toDocument(const Config& config);
Document toDocument(const Route& route);
Document toDocument(const Volume& volume);

// What applying a manifest changed, so the controller can decide whether a
// new deployment is needed (only when the template hash changes).
struct ServiceDiff {
  bool metaChanged = false;  // description / labels
  bool replicasChanged = false;
  bool specChanged = false;      // anything in spec
  bool templateChanged = false;  // templateHash differs: a new deployment is due
};

// Applies a Service manifest onto an existing service (name must match):
// replaces description, labels and spec; keeps identity, timestamps, status.
StatusOr<ServiceDiff> applyManifest(const Document& doc, Service* svc);

}  // namespace lb::types
