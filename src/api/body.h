#pragma once

// Private to the REST API: request bodies. Every kind a user writes
// (Namespace via apply, Service, Secret, Config, Route, Volume) arrives in
// ONE shape, the manifest of types/manifest.h, as YAML/JSON text for apply or
// as a JSON object for POST/PUT. Decoding reuses types::parseManifests, so
// the API and `lb` validate identically.
//
// Manifests may name `file:` items that parseManifests reads from disk. That
// is for the CLI; on the server it would read the API host's files (a
// manifest naming /etc/shadow), so any `file:` item is rejected before
// decoding (in the parsed trees, which are then decoded: one parse) and
// clients inline files as `value:`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/http/message.h"
#include "lastbackend/types/manifest.h"

namespace lb::api {

// kInvalidArgument naming "spec.data[i].file" (and "document N" for
// multi-document text) when any document carries a file reference. Text
// that parses neither as JSON nor YAML passes: decoding reports it.
// (decodeManifests runs the same scan on the trees it decodes.)
Status rejectFileReferences(std::string_view text);

// JSON bodies: application/json (parameters allowed) or no Content-Type;
// anything else is kUnsupported (415).
Status requireJsonBody(const http::Request& req);

// Apply bodies: application/yaml, text/yaml, application/x-yaml,
// application/json, text/plain or no Content-Type; others kUnsupported.
Status checkManifestContentType(const http::Request& req);

// All documents of an apply body, validated, file references rejected.
StatusOr<std::vector<types::Document>> decodeManifests(std::string_view text);

struct ManifestBody {
  types::Document doc;
  // meta.revision of the body: the revision the client last read (PUT
  // compare-and-swap); nullopt or 0 when absent.
  std::optional<int64_t> revision;
};

// A POST/PUT body: one manifest as a JSON object. `kind` and `version` may
// be omitted (they default to `expected` and v1); another kind is 422 on
// "kind". meta.namespace, when present, must equal `ns`; meta.revision is
// taken out as the CAS expectation. With a non-empty `pathName` (PUT) the
// name may be omitted and must otherwise equal it (422 on "meta.name").
StatusOr<ManifestBody> decodeManifestBody(const http::Request& req, types::Kind expected,
                                          std::string_view ns, std::string_view pathName);

// POST /namespace: {"name", "description"?, "labels"?}; PUT /namespace/{ns}:
// {"description"?, "labels"?, "revision"?}. Unknown fields and wrong types
// are 422 naming the field.
struct NamespaceBody {
  std::string name;
  std::optional<std::string> description;
  std::optional<std::map<std::string, std::string>> labels;
  std::optional<int64_t> revision;
};
StatusOr<NamespaceBody> decodeNamespaceBody(const http::Request& req, bool create);

// POST /namespace/{ns}/service/{svc}/rollback: {"deployment"?}, or no body.
// The deployment's name ("" = the previous one); unknown fields are 422.
StatusOr<std::string> decodeRollbackBody(const http::Request& req);

}  // namespace lb::api
