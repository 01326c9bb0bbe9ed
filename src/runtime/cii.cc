// What every CII driver shares: registry auth encoding, image references,
// pull policies.

#include "lastbackend/runtime/cii.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace lb::runtime::cii {
namespace {

std::string base64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace

std::string encodeRegistryAuth(const RegistryAuth& auth) {
  nlohmann::json j = nlohmann::json::object();
  if (!auth.identityToken.empty()) {
    j["identitytoken"] = auth.identityToken;
  } else if (!auth.username.empty() || !auth.password.empty()) {
    j["username"] = auth.username;
    j["password"] = auth.password;
  }
  if (!auth.serverAddress.empty()) j["serveraddress"] = auth.serverAddress;
  return base64Url(j.dump());
}

std::string ImageRef::str() const {
  std::string out = repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

StatusOr<ImageRef> parseImageRef(std::string_view ref) {
  std::string text(ref);
  auto bad = [&](const std::string& why) {
    return invalidArgument("image reference '" + text + "': " + why, "image");
  };
  if (ref.empty()) return bad("empty");
  for (char c : ref) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '\0' || c == '?' || c == '#' ||
        c == '%') {
      return bad("has a character not allowed in a reference");
    }
  }
  ImageRef out;
  if (auto at = ref.find('@'); at != std::string_view::npos) {
    out.digest = std::string(ref.substr(at + 1));
    ref = ref.substr(0, at);
    if (out.digest.find(':') == std::string::npos) return bad("digest is not algo:hex");
  }
  // A ':' after the last '/' starts the tag; one before it is a registry port.
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    out.tag = std::string(ref.substr(colon + 1));
    ref = ref.substr(0, colon);
    if (out.tag.empty()) return bad("empty tag");
  } else if (out.digest.empty()) {
    out.tag = "latest";
  }
  out.repository = std::string(ref);
  if (out.repository.empty() || out.repository.front() == '/' || out.repository.back() == '/' ||
      out.repository.find("//") != std::string::npos) {
    return bad("bad repository name");
  }
  return out;
}

StatusOr<PullPolicy> parsePullPolicy(std::string_view text) {
  std::string k;
  for (char c : text) {
    if (c != '-' && c != '_') k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (k.empty() || k == "ifnotpresent") return PullPolicy::kIfNotPresent;
  if (k == "always") return PullPolicy::kAlways;
  if (k == "never") return PullPolicy::kNever;
  return invalidArgument(
      "pull policy '" + std::string(text) + "' is not one of Always, IfNotPresent, Never",
      "image.policy");
}

const char* pullPolicyName(PullPolicy policy) {
  switch (policy) {
    case PullPolicy::kAlways:
      return "Always";
    case PullPolicy::kIfNotPresent:
      return "IfNotPresent";
    case PullPolicy::kNever:
      return "Never";
  }
  return "?";
}

bool shouldPull(PullPolicy policy, bool present) {
  switch (policy) {
    case PullPolicy::kAlways:
      return true;
    case PullPolicy::kIfNotPresent:
      return !present;
    case PullPolicy::kNever:
      return false;
  }
  return false;
}

Status ensureImage(ImageRuntime& images, const std::string& ref, PullPolicy policy,
                   const RegistryAuth& auth, const PullSink& progress, CancelToken* cancel) {
  bool present = false;
  if (policy != PullPolicy::kAlways) {
    auto e = images.exists(ref);
    if (!e) return e.status();
    present = *e;
  }
  if (!shouldPull(policy, present)) {
    if (!present) {
      return notFound("image '" + ref + "' is not present and the pull policy is Never");
    }
    return Status::ok();
  }
  return images.pull(ref, auth, progress, cancel).status();
}

}  // namespace lb::runtime::cii
