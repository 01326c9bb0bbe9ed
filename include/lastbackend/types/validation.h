#pragma once

// Semantic checks of specs. Every error is kInvalidArgument with field() set
// to the exact path (prefix + relative path, e.g. "spec.template.containers[1].name").
// Decoding (codec.h) already checked types; these check meaning.

#include <string>
#include <string_view>

#include "lastbackend/common/status.h"
#include "lastbackend/types/manifest.h"

namespace lb::types {

// DNS-label-like: 1-63 chars of [a-z0-9-], not starting or ending with '-'.
// Leading digits are allowed (the reference's service is named "2048").
bool isValidName(std::string_view name);
Status validateName(std::string_view name, const std::string& field);

Status validateTemplate(const PodTemplate& tmpl, const std::string& path);
Status validateServiceSpec(const ServiceSpec& spec, const std::string& path = "spec");
Status validateNamespaceSpec(const NamespaceSpec& spec, const std::string& path = "spec");
Status validateRouteSpec(const RouteSpec& spec, const std::string& path = "spec");
Status validateVolumeSpec(const VolumeSpec& spec, const std::string& path = "spec");
// Secrets allow types text|file|auth; configs text|file.
Status validateDataSpec(const DataManifestSpec& spec, bool secret,
                        const std::string& path = "spec");
Status validateSecretSpec(const SecretSpec& spec, const std::string& path = "spec");
Status validateConfigSpec(const ConfigSpec& spec, const std::string& path = "spec");

// A whole manifest document (kind/version/meta/spec).
Status validateDocument(const Document& doc);

}  // namespace lb::types
