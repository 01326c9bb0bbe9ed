#include "types/tree.h"

#include <yaml-cpp/yaml.h>

#include <exception>

#include "lastbackend/types/codec.h"

namespace lb::types::detail {

Status fieldError(const std::string& field, std::string message) {
  return invalidArgument(std::move(message), field);
}

std::string childPath(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string p = parent;
  p += '.';
  p += key;
  return p;
}

std::string indexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

namespace {

Status tooLarge(size_t size, size_t max) {
  return Status(Code::kTooLarge, "document of " + std::to_string(size) +
                                     " bytes exceeds the limit of " + std::to_string(max));
}

// nlohmann parses iteratively, but everything downstream (decoders, YAML
// emitter) recurses, so depth is bounded before parsing. JSON quoting is
// unambiguous, so an exact bracket count outside strings is cheap.
Status checkJsonDepth(std::string_view text) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\') ++i;
      else if (c == '"') inString = false;
      continue;
    }
    if (c == '"') inString = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth)
        return fieldError("", "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    } else if (c == ']' || c == '}') --depth;
  }
  return Status::ok();
}

// Text must be valid UTF-8: JSON cannot carry anything else losslessly, and
// a YAML document may otherwise smuggle bytes that a JSON re-encode mangles.
// Returns the offset of the first bad byte, or npos.
size_t firstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return i;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc >> 6) != 2) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool isNullScalar(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Converts with a node budget: YAML aliases share nodes, so a small input can
// describe an exponentially large tree ("billion laughs").
class YamlConverter {
 public:
  explicit YamlConverter(size_t budget) : budget_(budget) {}

  Status convert(const YAML::Node& node, int depth, const std::string& path, Json* out) {
    if (depth > kMaxDepth)
      return fieldError(path, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    if (budget_ == 0) return fieldError(path, "document expands to too many nodes");
    --budget_;
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        *out = nullptr;
        return Status::ok();
      case YAML::NodeType::Scalar: {
        const std::string& s = node.Scalar();
        // Tag "!" marks a quoted scalar: always a string, even "" or "null".
        if (node.Tag() != "!" && isNullScalar(s)) *out = nullptr;
        else *out = s;
        return Status::ok();
      }
      case YAML::NodeType::Sequence: {
        *out = Json::array();
        size_t i = 0;
        for (const auto& item : node) {
          Json child;
          LB_RETURN_IF_ERROR(convert(item, depth + 1, indexPath(path, i++), &child));
          out->push_back(std::move(child));
        }
        return Status::ok();
      }
      case YAML::NodeType::Map: {
        *out = Json::object();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) return fieldError(path, "mapping keys must be scalars");
          const std::string& key = kv.first.Scalar();
          std::string childP = childPath(path, key);
          if (out->contains(key)) return fieldError(childP, "duplicate key");
          Json child;
          LB_RETURN_IF_ERROR(convert(kv.second, depth + 1, childP, &child));
          (*out)[key] = std::move(child);
        }
        return Status::ok();
      }
    }
    return fieldError(path, "unsupported YAML node");
  }

 private:
  size_t budget_;
};

void emitYaml(YAML::Emitter& e, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      e << YAML::BeginMap;
      for (const auto& [k, v] : j.items()) {
        e << YAML::Key << k << YAML::Value;
        emitYaml(e, v);
      }
      e << YAML::EndMap;
      break;
    case Json::value_t::array:
      e << YAML::BeginSeq;
      for (const auto& v : j) emitYaml(e, v);
      e << YAML::EndSeq;
      break;
    case Json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      // Quote what would read back as null; yaml-cpp quotes the other
      // ambiguous plain scalars itself.
      if (isNullScalar(s)) e << YAML::DoubleQuoted << s;
      else e << s;
      break;
    }
    case Json::value_t::boolean:
      e << (j.get<bool>() ? "true" : "false");
      break;
    case Json::value_t::number_integer:
      e << j.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      e << j.get<uint64_t>();
      break;
    case Json::value_t::number_float:
      e << j.dump();
      break;
    default:
      e << YAML::Null;
      break;
  }
}

}  // namespace

Status checkUtf8(std::string_view text) {
  size_t bad = firstInvalidUtf8(text);
  if (bad == std::string_view::npos) return Status::ok();
  return fieldError("", "invalid UTF-8 at byte " + std::to_string(bad));
}

Status parseJsonTree(std::string_view text, size_t maxBytes, Json* out) {
  if (text.size() > maxBytes) return tooLarge(text.size(), maxBytes);
  LB_RETURN_IF_ERROR(checkJsonDepth(text));
  try {
    *out = Json::parse(text.begin(), text.end());
    return Status::ok();
  } catch (const std::exception& e) {
    return fieldError("", std::string("invalid JSON: ") + e.what());
  }
}

Status parseYamlTree(std::string_view text, size_t maxBytes, std::vector<Json>* out) {
  if (text.size() > maxBytes) return tooLarge(text.size(), maxBytes);
  LB_RETURN_IF_ERROR(checkUtf8(text));
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    // A budget proportional to the input keeps honest documents (a node per
    // few bytes at most) while bounding alias expansion.
    YamlConverter conv(text.size() + 1024);
    out->clear();
    for (const auto& d : docs) {
      Json j;
      LB_RETURN_IF_ERROR(conv.convert(d, 0, "", &j));
      out->push_back(std::move(j));
    }
    return Status::ok();
  } catch (const YAML::Exception& e) {
    return fieldError("", "invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return fieldError("", std::string("invalid YAML: ") + e.what());
  }
}

std::string dumpJson(const Json& j, bool pretty) {
  // Replace rather than throw on invalid UTF-8 (config data is opaque text).
  return j.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

std::string dumpYaml(const Json& j) {
  YAML::Emitter e;
  emitYaml(e, j);
  return std::string(e.c_str()) + "\n";
}

}  // namespace lb::types::detail
