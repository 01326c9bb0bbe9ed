#pragma once

// Private: a manifest text as trees, between parsing and decoding. The API
// looks at the trees before anything is decoded (it refuses `file:` items,
// which decoding would read from the server's disk) and then decodes the
// same trees, so a body is parsed once. parseManifests is these two steps.

#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/types/manifest.h"
#include "types/tree.h"

namespace lb::types::detail {

struct ManifestTrees {
  std::vector<Json> docs;  // a JSON array flattened; empty YAML documents dropped
  bool yaml = false;       // read as YAML: scalars are text (DecodeContext::yaml)
};

// JSON when the text starts like JSON and parses as such, else YAML (flow
// style starts with '{' too); the JSON error when it is neither.
Status parseManifestTrees(std::string_view text, size_t maxBytes, ManifestTrees* out);

// Decodes and validates every document as parseManifests does ("document N"
// context when there are several; `file:` items read per `options`).
StatusOr<std::vector<Document>> decodeManifestTrees(const ManifestTrees& trees,
                                                    const ParseOptions& options);

}  // namespace lb::types::detail
