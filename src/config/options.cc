// The one loader behind every component's options (see options.h).

#include "lastbackend/config/options.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <set>

#include "common/driver_table.h"

namespace lb::config {
namespace {

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> splitComma(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string item = trim(text.substr(start, comma - start));
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

std::optional<int64_t> parseInt(std::string_view text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

bool validCidr(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return false;
  std::string addr = text.substr(0, slash);
  auto bits = parseInt(std::string_view(text).substr(slash + 1));
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) return bits && *bits >= 0 && *bits <= 32;
  if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) return bits && *bits >= 0 && *bits <= 128;
  return false;
}

Status rangeError(const std::string& origin, std::string_view what, int64_t v, int lo, int hi) {
  return invalidArgument(origin + ": " + std::string(what) + " " + std::to_string(v) +
                         " out of range " + std::to_string(lo) + "-" + std::to_string(hi));
}

// The table's own default, parsed by the same code as user input so a typo in
// a table fails the "defaults parse" test instead of surprising at runtime.
StatusOr<Value> defaultValue(const OptionSpec& o) {
  if (!o.defaultValue.empty()) {
    return parseValue(o, o.defaultValue, "default of --" + std::string(o.flag));
  }
  switch (o.type) {
    case Type::kInt:
      return Value(int64_t{0});
    case Type::kBool:
      return Value(false);
    case Type::kStringList:
      return Value(std::vector<std::string>{});
    case Type::kDuration:
      return Value(std::chrono::milliseconds{0});
    case Type::kString:
      break;
  }
  return Value(std::string());
}

// Raw text of each option found in the config file, by canonical key. A list
// arrives already split (YAML sequence); scalars as text.
struct FileValue {
  std::optional<std::string> text;
  std::optional<std::vector<std::string>> items;
};

class FileReader {
 public:
  FileReader(const ComponentSpec& spec, std::string path) : spec_(spec), path_(std::move(path)) {
    for (const auto& o : spec.options) {
      addKey(o.key, o.key);
      if (!o.altKey.empty()) addKey(o.altKey, o.key);
    }
  }

  Status read(std::map<std::string, FileValue>* out) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path_);
    } catch (const YAML::BadFile&) {
      return invalidArgument("cannot read config file '" + path_ + "'");
    } catch (const YAML::Exception& e) {
      return invalidArgument("config file '" + path_ + "' is not valid YAML: " + e.what());
    }
    if (root.IsNull()) return Status::ok();  // empty or comments only
    if (!root.IsMap()) return invalidArgument("config file '" + path_ + "': expected a mapping");
    try {
      return walk(root, "", out);
    } catch (const YAML::Exception& e) {
      return invalidArgument("config file '" + path_ + "': " + e.what());
    }
  }

 private:
  void addKey(std::string_view key, std::string_view canonical) {
    keys_[std::string(key)] = std::string(canonical);
    for (size_t dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.', dot + 1)) {
      prefixes_.insert(std::string(key.substr(0, dot)));
    }
  }

  Status walk(const YAML::Node& map, const std::string& prefix,
              std::map<std::string, FileValue>* out) {
    for (const auto& kv : map) {
      std::string path =
          prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>();
      const YAML::Node& node = kv.second;
      if (auto k = keys_.find(path); k != keys_.end()) {
        LB_RETURN_IF_ERROR(leaf(path, k->second, node, out));
      } else if (prefixes_.count(path)) {
        if (node.IsMap()) {
          LB_RETURN_IF_ERROR(walk(node, path, out));
        } else if (!node.IsNull()) {
          return invalidArgument("config key '" + path + "': expected a mapping");
        }
      } else {
        return invalidArgument("unknown config key '" + path + "' in " + path_);
      }
    }
    return Status::ok();
  }

  Status leaf(const std::string& path, const std::string& canonical, const YAML::Node& node,
              std::map<std::string, FileValue>* out) {
    if (node.IsNull()) return Status::ok();  // "key:" with nothing is "not set"
    const OptionSpec* o = nullptr;
    for (const auto& opt : spec_.options) {
      if (opt.key == canonical) o = &opt;
    }
    if (seen_.count(canonical)) {
      return invalidArgument("config key '" + path + "' is set twice (also as '" +
                             seen_[canonical] + "')");
    }
    seen_[canonical] = path;
    FileValue v;
    if (node.IsScalar()) {
      v.text = node.Scalar();
    } else if (node.IsSequence() && o->type == Type::kStringList) {
      std::vector<std::string> items;
      for (const auto& item : node) {
        if (!item.IsScalar()) {
          return invalidArgument("config key '" + path + "': expected a list of strings");
        }
        items.push_back(item.Scalar());
      }
      v.items = std::move(items);
    } else {
      return invalidArgument("config key '" + path + "': expected " + typeName(o->type) +
                             ", got a " + (node.IsMap() ? "mapping" : "list"));
    }
    (*out)[canonical] = std::move(v);
    return Status::ok();
  }

  const ComponentSpec& spec_;
  std::string path_;
  std::map<std::string, std::string> keys_;  // accepted spelling -> canonical key
  std::set<std::string> prefixes_;
  std::map<std::string, std::string> seen_;  // canonical -> spelling used
};

std::string flagNames(const OptionSpec& o) {
  std::string names;
  if (o.shortName) names = std::string("-") + o.shortName + ",";
  return names + "--" + std::string(o.flag);
}

}  // namespace

const char* typeName(Type type, bool brief) {
  switch (type) {
    case Type::kString:
      return "string";
    case Type::kInt:
      return "integer";
    case Type::kBool:
      return brief ? "bool" : "boolean";
    case Type::kStringList:
      return brief ? "list" : "list of strings";
    case Type::kDuration:
      return "duration";
  }
  return "?";
}

const char* sourceName(Source source) {
  switch (source) {
    case Source::kDefault:
      return "default";
    case Source::kFile:
      return "file";
    case Source::kEnv:
      return "env";
    case Source::kFlag:
      return "flag";
  }
  return "?";
}

const ComponentSpec* findComponent(std::string_view name) {
  for (const auto& c : components()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void Values::set(std::string key, Value value, Source source) {
  entries_[std::move(key)] = Entry{std::move(value), source};
}
bool Values::has(std::string_view key) const { return entries_.find(key) != entries_.end(); }
Source Values::source(std::string_view key) const { return at(key).source; }

const Values::Entry& Values::at(std::string_view key) const {
  auto it = entries_.find(key);
  // Asking for a key outside the component's table is a bug in a builder.
  assert(it != entries_.end() && "config key not in this component's table");
  if (it == entries_.end()) {
    static const Entry kEmpty{};
    return kEmpty;
  }
  return it->second;
}

const std::string& Values::str(std::string_view key) const {
  static const std::string kEmpty;
  const auto* v = std::get_if<std::string>(&at(key).value);
  return v ? *v : kEmpty;
}
int64_t Values::integer(std::string_view key) const {
  const auto* v = std::get_if<int64_t>(&at(key).value);
  return v ? *v : 0;
}
bool Values::boolean(std::string_view key) const {
  const auto* v = std::get_if<bool>(&at(key).value);
  return v && *v;
}
const std::vector<std::string>& Values::list(std::string_view key) const {
  static const std::vector<std::string> kEmpty;
  const auto* v = std::get_if<std::vector<std::string>>(&at(key).value);
  return v ? *v : kEmpty;
}
std::chrono::milliseconds Values::duration(std::string_view key) const {
  const auto* v = std::get_if<std::chrono::milliseconds>(&at(key).value);
  return v ? *v : std::chrono::milliseconds{0};
}

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

EnvLookup mapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

StatusOr<std::chrono::milliseconds> parseDuration(std::string_view text) {
  std::string t = trim(text);
  if (t.empty()) return invalidArgument("empty duration");
  // A bare number is seconds: the reference types --dns-ttl as "integer".
  if (auto n = parseInt(t)) return std::chrono::milliseconds(*n * 1000);
  std::chrono::milliseconds total{0};
  std::string_view rest = t;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    auto n = parseInt(rest.substr(0, digits));
    if (!n) return invalidArgument("bad duration '" + t + "'");
    rest.remove_prefix(digits);
    size_t unitLen = 0;
    while (unitLen < rest.size() && std::isalpha(static_cast<unsigned char>(rest[unitLen]))) {
      ++unitLen;
    }
    std::string_view unit = rest.substr(0, unitLen);
    rest.remove_prefix(unitLen);
    int64_t ms;
    if (unit == "ms")
      ms = 1;
    else if (unit == "s")
      ms = 1000;
    else if (unit == "m")
      ms = 60 * 1000;
    else if (unit == "h")
      ms = 3600 * 1000;
    else if (unit == "d")
      ms = 24 * 3600 * 1000;
    else
      return invalidArgument("bad duration '" + t + "'");
    total += std::chrono::milliseconds(*n * ms);
  }
  return total;
}

std::string formatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::pair<int64_t, const char*> units[] = {
      {3600 * 1000, "h"}, {60 * 1000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

std::string formatValue(const Value& value) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::vector<std::string>& v) const {
      std::string out;
      for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
      return out;
    }
    std::string operator()(std::chrono::milliseconds d) const { return formatDuration(d); }
  };
  return std::visit(Visitor{}, value);
}

StatusOr<Value> parseValue(const OptionSpec& o, std::string_view raw, const std::string& origin) {
  std::string text = trim(raw);
  Value value;
  switch (o.type) {
    case Type::kString:
      value = text;
      break;
    case Type::kStringList:
      value = splitComma(text);
      break;
    case Type::kInt: {
      auto n = parseInt(text);
      if (!n) return invalidArgument(origin + ": expected integer, got '" + text + "'");
      value = *n;
      break;
    }
    case Type::kBool: {
      std::string lower = text;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (lower == "true" || lower == "1" || lower == "yes" || lower == "on")
        value = true;
      else if (lower == "false" || lower == "0" || lower == "no" || lower == "off")
        value = false;
      else
        return invalidArgument(origin + ": expected boolean, got '" + text + "'");
      break;
    }
    case Type::kDuration: {
      auto d = parseDuration(text);
      if (!d) {
        return invalidArgument(origin + ": expected duration (e.g. 30s, 24h), got '" + text + "'");
      }
      value = *d;
      break;
    }
  }

  switch (o.check) {
    case Check::kNone:
      break;
    case Check::kPort:
    case Check::kPortOrZero: {
      int64_t v = std::get<int64_t>(value);
      int lo = o.check == Check::kPort ? 1 : 0;
      if (v < lo || v > 65535) return rangeError(origin, "port", v, lo, 65535);
      break;
    }
    case Check::kVerbose: {
      int64_t v = std::get<int64_t>(value);
      if (v < 0 || v > 7) return rangeError(origin, "verbose level", v, 0, 7);
      break;
    }
    case Check::kVni: {
      int64_t v = std::get<int64_t>(value);
      if (v < 1 || v > 16777215) return rangeError(origin, "VNI", v, 1, 16777215);
      break;
    }
    case Check::kCidr:
      if (!validCidr(text)) {
        return invalidArgument(origin + ": '" + text + "' is not a valid CIDR (e.g. 10.96.0.0/16)");
      }
      break;
    case Check::kPositive: {
      bool positive = std::holds_alternative<int64_t>(value)
                          ? std::get<int64_t>(value) > 0
                          : std::get<std::chrono::milliseconds>(value).count() > 0;
      if (!positive) return invalidArgument(origin + ": must be positive, got '" + text + "'");
      break;
    }
    case Check::kKeyValue:
      for (const auto& item : std::get<std::vector<std::string>>(value)) {
        auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
          return invalidArgument(origin + ": '" + item + "' is not key=value");
      }
      break;
    case Check::kOneOf: {
      auto valid = splitComma(o.choices);
      if (std::find(valid.begin(), valid.end(), text) == valid.end())
        return unknownName("value", text, valid).withContext(origin);
      break;
    }
  }
  return value;
}

StatusOr<Parsed> parse(const ComponentSpec& spec, const std::vector<std::string>& args,
                       const EnvLookup& env) {
  Parsed parsed;

  // 1. Flags. CLI11 only tokenizes: every option is captured as raw text so
  // that flag values go through the same parseValue() as env and file.
  struct Raw {
    std::string text;
    std::vector<std::string> items;
    CLI::Option* option = nullptr;
  };
  std::vector<Raw> raw(spec.options.size());
  std::string configFlag;
  bool help = false;
  CLI::App app;
  app.set_help_flag();
  try {
    for (size_t i = 0; i < spec.options.size(); ++i) {
      const OptionSpec& o = spec.options[i];
      std::string names = flagNames(o);
      if (o.type == Type::kStringList) {
        // Repeatable, each occurrence one (possibly comma-separated) value.
        raw[i].option =
            app.add_option(names, raw[i].items)->expected(1)->take_all()->allow_extra_args(false);
      } else if (o.type == Type::kBool) {
        raw[i].option = app.add_flag(names, raw[i].text);  // "--x" or "--x=false"
      } else {
        raw[i].option = app.add_option(names, raw[i].text)->take_last();
      }
    }
    app.add_option("-c,--config", configFlag)->take_last();
    app.add_flag("-h,--help", help);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
    app.parse(reversed);
  } catch (const CLI::ExtrasError& e) {
    std::string extras;
    for (const auto& a : app.remaining()) extras += (extras.empty() ? "" : " ") + a;
    return invalidArgument("unknown option '" + extras + "'");
  } catch (const CLI::Error& e) {
    return invalidArgument(e.what());
  }
  if (help) {
    parsed.help = true;
    return parsed;
  }

  auto envValue = [&](std::string_view name) -> std::optional<std::string> {
    if (name.empty()) return std::nullopt;
    auto v = env(std::string(name));
    // An empty variable counts as unset: `docker run -e LB_X=` is common and
    // should not blank out a file value.
    if (v && trim(*v).empty()) return std::nullopt;
    return v;
  };

  // 2. The config file, if any (-c beats LB_CONFIG).
  if (!configFlag.empty()) {
    parsed.configFile = configFlag;
  } else if (auto c = envValue("LB_CONFIG")) {
    parsed.configFile = *c;
  }
  std::map<std::string, FileValue> file;
  if (!parsed.configFile.empty()) {
    LB_RETURN_IF_ERROR(FileReader(spec, parsed.configFile).read(&file));
  }

  // 3. Resolve each option: flag > env > file > default.
  for (size_t i = 0; i < spec.options.size(); ++i) {
    const OptionSpec& o = spec.options[i];
    StatusOr<Value> v = Status(Code::kInternal, "unset");
    Source source;
    if (raw[i].option->count() > 0) {
      source = Source::kFlag;
      std::string text = raw[i].text;
      if (o.type == Type::kStringList) {
        text.clear();
        for (const auto& item : raw[i].items) text += (text.empty() ? "" : ",") + item;
      }
      v = parseValue(o, text, "option --" + std::string(o.flag));
    } else if (auto e = envValue(o.env)) {
      source = Source::kEnv;
      v = parseValue(o, *e, "environment variable " + std::string(o.env));
    } else if (auto f = file.find(std::string(o.key)); f != file.end()) {
      source = Source::kFile;
      if (f->second.items) {
        v = Value(*f->second.items);
      } else {
        v = parseValue(o, *f->second.text, "config key '" + std::string(o.key) + "'");
      }
    } else {
      source = Source::kDefault;
      v = defaultValue(o);
    }
    if (!v) return v.status();
    parsed.values.set(std::string(o.key), std::move(v).value(), source);
  }
  return parsed;
}

}  // namespace lb::config
