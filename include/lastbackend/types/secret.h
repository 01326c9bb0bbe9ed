#pragma once

// Secrets and configs: key/value data attached to pods as env or files.

#include <map>
#include <string>

#include "lastbackend/types/meta.h"

namespace lb::types {

// Secret types: "text" (key=value), "file" (files), "auth" (username/password).
inline constexpr const char* kSecretText = "text";
inline constexpr const char* kSecretFile = "file";
inline constexpr const char* kSecretAuth = "auth";

struct SecretSpec {
  std::string type = kSecretText;
  std::map<std::string, std::string> data;  // raw bytes; base64 on the wire
  bool operator==(const SecretSpec&) const = default;
};

struct SecretStatus {
  State state = State::kCreated;
  std::string message;
  bool operator==(const SecretStatus&) const = default;
};

struct Secret {
  Meta meta;  // selflink "demo:db-pass"
  SecretSpec spec;
  SecretStatus status;
  bool operator==(const Secret&) const = default;
};

// Config types: "text" or "file". Data is text (UTF-8) and kept as-is on the wire.
struct ConfigSpec {
  std::string type = kSecretText;
  std::map<std::string, std::string> data;
  bool operator==(const ConfigSpec&) const = default;
};

struct ConfigStatus {
  State state = State::kCreated;
  std::string message;
  bool operator==(const ConfigStatus&) const = default;
};

struct Config {
  Meta meta;  // selflink "demo:app-conf"
  ConfigSpec spec;
  ConfigStatus status;
  bool operator==(const Config&) const = default;
};

}  // namespace lb::types
