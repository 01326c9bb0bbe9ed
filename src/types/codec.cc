#include "lastbackend/types/codec.h"

#include "types/fields.h"

namespace lb::types::detail {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Status typeError(const std::string& path, const char* expected) {
  return fieldError(path, std::string("expected ") + expected);
}

// Integers: JSON numbers, or (YAML) the text of a plain scalar.
template <class Int>
Status decodeInteger(const Json& j, Int& out, const std::string& path, const DecodeContext& ctx) {
  int64_t v = 0;
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    v = j.get<int64_t>();
  } else if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return fieldError(path, "number out of range");
    v = static_cast<int64_t>(j.get<uint64_t>());
  } else if (ctx.yaml && j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    const char* b = s.data();
    if (!s.empty() && *b == '+') ++b;
    auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (s.empty() || ec == std::errc::result_out_of_range)
      return ec == std::errc::result_out_of_range ? fieldError(path, "number out of range")
                                                  : typeError(path, "an integer");
    if (ec != std::errc() || p != s.data() + s.size()) return typeError(path, "an integer");
  } else {
    return typeError(path, "an integer");
  }
  if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max())
    return fieldError(path, "number out of range");
  out = static_cast<Int>(v);
  return Status::ok();
}

}  // namespace

std::string base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(n >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64Decode(std::string_view in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  out->clear();
  uint32_t buf = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    int v;
    if (c == '=') {
      // Padding only in the last two positions.
      if (i + 2 < in.size()) return false;
      ++pad;
      continue;
    }
    if (pad) return false;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      return false;
    buf = (buf << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return true;
}

Status decode(const Json& j, std::string& out, const std::string& path, const DecodeContext&,
              unsigned flags) {
  if (!j.is_string()) return typeError(path, "a string");
  const auto& s = j.get_ref<const std::string&>();
  if (!(flags & kBase64)) {
    // "\u0000" is legal JSON but no YAML emitter can write it back; binary
    // belongs in base64 fields.
    if (s.find('\0') != std::string::npos) return fieldError(path, "must not contain NUL");
    out = s;
    return Status::ok();
  }
  if (!base64Decode(s, &out)) return fieldError(path, "invalid base64");
  return Status::ok();
}

Status decode(const Json& j, bool& out, const std::string& path, const DecodeContext& ctx,
              unsigned) {
  if (j.is_boolean()) {
    out = j.get<bool>();
    return Status::ok();
  }
  if (ctx.yaml && j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "true" || s == "True" || s == "TRUE") return out = true, Status::ok();
    if (s == "false" || s == "False" || s == "FALSE") return out = false, Status::ok();
  }
  return typeError(path, "true or false");
}

Status decode(const Json& j, int& out, const std::string& path, const DecodeContext& ctx,
              unsigned) {
  return decodeInteger(j, out, path, ctx);
}

Status decode(const Json& j, int64_t& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags) {
  if (j.is_string() && (flags & (kMemory | kCpu))) {
    auto q = (flags & kMemory) ? parseMemory(j.get_ref<const std::string&>())
                               : parseCpu(j.get_ref<const std::string&>());
    if (!q.isOk()) return fieldError(path, q.status().message());
    out = *q;
    return Status::ok();
  }
  LB_RETURN_IF_ERROR(decodeInteger(j, out, path, ctx));
  if (out < 0 && (flags & (kMemory | kCpu))) return fieldError(path, "must not be negative");
  return Status::ok();
}

Status decode(const Json& j, State& out, const std::string& path, const DecodeContext&, unsigned) {
  if (!j.is_string()) return typeError(path, "a state string");
  auto s = parseState(j.get_ref<const std::string&>());
  if (!s) return fieldError(path, "unknown state '" + j.get<std::string>() + "'");
  out = *s;
  return Status::ok();
}

Json encode(const PortMapping& p, Mode mode, unsigned) {
  if (mode == Mode::kManifest) return formatPortMapping(p);
  return encodeAllFields(p, mode);
}

// Ports: "80:8080/tcp" (what manifests write) or the object form.
Status decode(const Json& j, PortMapping& out, const std::string& path, const DecodeContext& ctx,
              unsigned) {
  if (j.is_string()) {
    auto p = parsePortMapping(j.get_ref<const std::string&>());
    if (!p.isOk()) return fieldError(path, p.status().message());
    out = *p;
    return Status::ok();
  }
  if (!j.is_object()) return typeError(path, "a port like \"80:8080/tcp\"");
  out = PortMapping{};
  Decoder d(j, path, ctx);
  fields(d, out);
  LB_RETURN_IF_ERROR(d.finish());
  // Same rules as the string form.
  auto check = parsePortMapping(formatPortMapping(out));
  if (!check.isOk()) return fieldError(path, check.status().message());
  return Status::ok();
}

Status decodeShellWords(const Json& j, std::vector<std::string>& out, const std::string& path) {
  auto words = splitShell(j.get_ref<const std::string&>());
  if (!words.isOk()) return fieldError(path, words.status().message());
  out = std::move(*words);
  return Status::ok();
}

}  // namespace lb::types::detail

namespace lb::types {

namespace {

template <class T>
Status decodeText(const detail::Json& tree, T* out, bool yaml) {
  detail::DecodeContext ctx{yaml};
  T value;
  LB_RETURN_IF_ERROR(detail::decode(tree, value, std::string(), ctx, 0));
  *out = std::move(value);
  return Status::ok();
}

template <class T>
Status fromJsonImpl(std::string_view text, T* out) {
  detail::Json tree;
  LB_RETURN_IF_ERROR(detail::parseJsonTree(text, kMaxDocumentBytes, &tree));
  return decodeText(tree, out, false);
}

template <class T>
Status fromYamlImpl(std::string_view text, T* out) {
  std::vector<detail::Json> docs;
  LB_RETURN_IF_ERROR(detail::parseYamlTree(text, kMaxDocumentBytes, &docs));
  if (docs.size() != 1) return detail::fieldError("", "expected exactly one YAML document");
  return decodeText(docs[0], out, true);
}

}  // namespace

// A type name cannot be parenthesized in a declaration.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define LB_TYPES_DEFINE_CODEC(Type)                                                     \
  std::string toJson(const Type& value, bool pretty) {                                  \
    return detail::dumpJson(detail::encode(value, detail::Mode::kObject, 0), pretty);   \
  }                                                                                     \
  std::string toYaml(const Type& value) {                                               \
    return detail::dumpYaml(detail::encode(value, detail::Mode::kObject, 0));           \
  }                                                                                     \
  Status fromJson(std::string_view text, Type* out) { return fromJsonImpl(text, out); } \
  Status fromYaml(std::string_view text, Type* out) { return fromYamlImpl(text, out); }
// NOLINTEND(bugprone-macro-parentheses)

LB_TYPES_DEFINE_CODEC(Meta)
LB_TYPES_DEFINE_CODEC(PodTemplate)
LB_TYPES_DEFINE_CODEC(Namespace)
LB_TYPES_DEFINE_CODEC(Service)
LB_TYPES_DEFINE_CODEC(Deployment)
LB_TYPES_DEFINE_CODEC(Pod)
LB_TYPES_DEFINE_CODEC(Endpoint)
LB_TYPES_DEFINE_CODEC(Volume)
LB_TYPES_DEFINE_CODEC(Secret)
LB_TYPES_DEFINE_CODEC(Config)
LB_TYPES_DEFINE_CODEC(Route)
LB_TYPES_DEFINE_CODEC(Node)
LB_TYPES_DEFINE_CODEC(Ingress)
LB_TYPES_DEFINE_CODEC(Discovery)
LB_TYPES_DEFINE_CODEC(Exporter)
LB_TYPES_DEFINE_CODEC(Cluster)
LB_TYPES_DEFINE_CODEC(Subnet)

#undef LB_TYPES_DEFINE_CODEC

}  // namespace lb::types
