// Text renderings of an option table: --help, the Markdown reference in
// docs/configuration.md, and a redacted dump of resolved values. All three
// read the same table so they cannot drift from what the loader accepts.

#include <sstream>

#include "lastbackend/config/options.h"

namespace lb::config {
namespace {

std::string flagLabel(std::string_view flag, char shortName) {
  std::string out = shortName ? std::string("-") + shortName + ", " : "";
  return out + "--" + std::string(flag);
}

std::string keyLabel(const OptionSpec& o) {
  std::string out(o.key);
  if (!o.altKey.empty()) out += " (or " + std::string(o.altKey) + ")";
  return out;
}

// The description with the allowed values of a Check::kOneOf option, so
// --help lists what the loader accepts (for drivers: the drivers built).
std::string descriptionOf(const OptionSpec& o) {
  std::string out(o.description);
  if (o.check != Check::kOneOf) return out;
  std::string allowed(o.choices);
  for (size_t at = allowed.find(','); at != std::string::npos; at = allowed.find(',', at + 2))
    allowed.replace(at, 1, ", ");
  return out + " (Allow: " + allowed + ")";
}

// The two loader-level options every component has; not table rows because
// they steer the loader rather than the component.
struct Builtin {
  std::string_view flag;
  char shortName;
  std::string_view env;
  std::string_view type;
  std::string_view description;
};
constexpr Builtin kBuiltins[] = {
    {"config", 'c', "LB_CONFIG", "string", "Path for the YAML configuration file"},
    {"help", 'h', "", "", "Print usage"},
};

}  // namespace

std::string renderHelp(const ComponentSpec& spec) {
  std::ostringstream out;
  out << "Usage: lastbackend " << spec.name << " [options]\n\n"
      << spec.summary << "\n\n"
      << "Options (precedence: flag > environment > config file > default):\n";
  for (const auto& o : spec.options) {
    out << "  " << flagLabel(o.flag, o.shortName) << " <" << typeName(o.type, /*brief=*/true) << ">\n"
        << "        " << descriptionOf(o);
    if (!o.defaultValue.empty()) out << " (default: " << o.defaultValue << ")";
    out << "\n        env: " << o.env << "    config: " << keyLabel(o) << "\n";
  }
  for (const auto& b : kBuiltins) {
    out << "  " << flagLabel(b.flag, b.shortName);
    if (!b.type.empty()) out << " <" << b.type << ">";
    out << "\n        " << b.description << "\n";
    if (!b.env.empty()) out << "        env: " << b.env << "\n";
  }
  return out.str();
}

std::string renderMarkdown(const ComponentSpec& spec) {
  std::ostringstream out;
  out << "| Flag | Environment | Config key | Type | Default | Description |\n"
      << "|---|---|---|---|---|---|\n";
  auto cell = [](std::string_view s) {
    return s.empty() ? std::string() : "`" + std::string(s) + "`";
  };
  for (const auto& o : spec.options) {
    std::string key = cell(o.key);
    if (!o.altKey.empty()) key += " or " + cell(o.altKey);
    out << "| " << cell(flagLabel(o.flag, o.shortName)) << " | " << cell(o.env) << " | " << key
        << " | " << typeName(o.type, /*brief=*/true) << " | " << cell(o.defaultValue) << " | "
        << descriptionOf(o) << (o.secret ? " (secret)" : "") << " |\n";
  }
  for (const auto& b : kBuiltins) {
    out << "| " << cell(flagLabel(b.flag, b.shortName)) << " | " << cell(b.env) << " |  | "
        << b.type << " |  | " << b.description << " |\n";
  }
  return out.str();
}

std::string describe(const ComponentSpec& spec, const Values& values) {
  std::ostringstream out;
  for (const auto& o : spec.options) {
    if (!values.has(o.key)) continue;
    std::string shown;
    if (o.secret) {
      shown = values.str(o.key).empty() ? "(unset)" : "<redacted>";
    } else if (o.type == Type::kString) {
      shown = "\"" + values.str(o.key) + "\"";
    } else if (o.type == Type::kStringList) {
      shown = "[" + formatValue(values.list(o.key)) + "]";
    } else {
      shown = o.type == Type::kInt        ? std::to_string(values.integer(o.key))
              : o.type == Type::kDuration ? formatDuration(values.duration(o.key))
                                          : (values.boolean(o.key) ? "true" : "false");
    }
    out << o.key << " = " << shown << " (" << sourceName(values.source(o.key)) << ")\n";
  }
  return out.str();
}

}  // namespace lb::config
