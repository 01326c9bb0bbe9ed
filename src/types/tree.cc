#include "types/tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <exception>
#include <map>
#include <optional>
#include <sstream>

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
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth)
        return fieldError("", "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    } else if (c == ']' || c == '}')
      --depth;
  }
  return Status::ok();
}

// Text must be valid UTF-8 without NUL: JSON cannot carry anything else losslessly, and
// a YAML document may otherwise smuggle bytes that a JSON re-encode mangles.
// Returns the offset of the first bad byte, or npos.
size_t firstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c == 0) return i;  // NUL: not text, and YAML cannot carry it
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

// Builds JSON straight from parser events, with an event budget. The budget
// bounds alias expansion ("billion laughs": a small input describing an
// exponentially large tree) and also stops yaml-cpp 0.7's own endless loops
// on some malformed flow collections, which keep emitting events.
class BuildError : public std::exception {
 public:
  explicit BuildError(Status s) : status_(std::move(s)) {}
  const char* what() const noexcept override { return "yaml build error"; }
  const Status& status() const { return status_; }

 private:
  Status status_;
};

class JsonBuilder : public YAML::EventHandler {
 public:
  JsonBuilder(size_t budget, std::vector<Json>* docs) : budget_(budget), docs_(docs) {}

  void OnDocumentStart(const YAML::Mark&) override {
    stack_.clear();
    anchors_.clear();  // anchors do not cross documents
    root_ = nullptr;
  }
  void OnDocumentEnd() override { docs_->push_back(std::move(root_)); }
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { add(Json(nullptr), anchor); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) fail(placePath(), "unknown alias");
    charge(countNodes(it->second));
    add(it->second, 0);
  }
  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // Tag "?" marks a plain scalar; quoted ones ("!") are always strings.
    add(tag == "?" && isNullScalar(value) ? Json(nullptr) : Json(value), anchor);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    push(Json::array(), anchor);
  }
  void OnSequenceEnd() override { pop(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    push(Json::object(), anchor);
  }
  void OnMapEnd() override { pop(); }

 private:
  struct Frame {
    Json value;
    YAML::anchor_t anchor = 0;
    std::optional<std::string> key;  // maps: the key waiting for its value
    std::string path;
  };

  [[noreturn]] static void fail(const std::string& path, std::string msg) {
    throw BuildError(fieldError(path, std::move(msg)));
  }

  void charge(size_t n) {
    if (n > budget_) fail("", "document expands to too many nodes");
    budget_ -= n;
  }

  static size_t countNodes(const Json& j) {
    size_t n = 1;
    if (j.is_structured())
      for (const auto& x : j) n += countNodes(x);
    return n;
  }

  // Path of the node about to be placed.
  std::string placePath() const {
    if (stack_.empty()) return "";
    const Frame& top = stack_.back();
    if (top.value.is_array()) return indexPath(top.path, top.value.size());
    return top.key ? childPath(top.path, *top.key) : top.path;
  }

  void push(Json container, YAML::anchor_t anchor) {
    charge(1);
    if (!stack_.empty() && stack_.back().value.is_object() && !stack_.back().key)
      fail(stack_.back().path, "mapping keys must be scalars");
    std::string path = placePath();
    if (stack_.size() >= static_cast<size_t>(kMaxDepth) + 1)
      fail(path, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    stack_.push_back(Frame{std::move(container), anchor, std::nullopt, std::move(path)});
  }

  void pop() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.key) fail(childPath(f.path, *f.key), "missing value");
    if (f.anchor) {
      charge(countNodes(f.value));
      anchors_[f.anchor] = f.value;
    }
    place(std::move(f.value));
  }

  void add(Json value, YAML::anchor_t anchor) {
    charge(1);
    if (anchor) anchors_[anchor] = value;
    place(std::move(value));
  }

  void place(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Frame& top = stack_.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(value));
      return;
    }
    if (!top.key) {
      if (!value.is_string()) fail(top.path, "mapping keys must be non-empty scalars");
      top.key = value.get<std::string>();
      return;
    }
    std::string key = std::move(*top.key);
    top.key.reset();
    if (top.value.contains(key)) fail(childPath(top.path, key), "duplicate key");
    top.value[key] = std::move(value);
  }

  size_t budget_;
  std::vector<Json>* docs_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Json> anchors_;
  Json root_;
};

bool needsQuotes(const std::string& s) {
  if (s.front() == ' ' || s.back() == ' ') return true;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

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
      // Quote what would read back as null, and anything with control
      // characters or edge whitespace (a plain scalar would lose or fold
      // them); yaml-cpp quotes the other ambiguous plain scalars itself.
      if (isNullScalar(s) || needsQuotes(s))
        e << YAML::DoubleQuoted << s;
      else
        e << s;
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
  return fieldError("", "invalid UTF-8 or NUL at byte " + std::to_string(bad));
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
    std::string copy(text);
    std::istringstream in(copy);
    YAML::Parser parser(in);
    out->clear();
    // A budget proportional to the input keeps honest documents (at most a
    // couple of events per byte) while bounding alias expansion.
    JsonBuilder builder(4 * text.size() + 1024, out);
    while (parser.HandleNextDocument(builder)) {
    }
    return Status::ok();
  } catch (const BuildError& e) {
    return e.status();
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
