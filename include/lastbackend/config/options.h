#pragma once

// The generic option machinery behind every `lastbackend <component>`.
//
// Each component's options are one table of OptionSpec rows (data, in
// src/config/tables.cc). One loader reads any table from four sources with
// the precedence flag > environment > config file (-c / LB_CONFIG) > default,
// checks types and ranges the same way for every source, and yields Values
// keyed by the YAML key path. config.h turns Values into typed structs.
//
// Nothing here throws: parser exceptions (CLI11, yaml-cpp) are caught at this
// edge and returned as kInvalidArgument naming the flag, variable or key.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::config {

enum class Type {
  kString,
  kInt,
  kBool,
  kStringList,  // flag/env: comma-separated (flag may repeat); file: YAML list
  kDuration,    // "24h", "30s", "1m30s", "500ms"; a bare number means seconds
};

// The type as users read it: in errors ("list of strings") or, `brief`, in
// --help and the Markdown reference ("list").
const char* typeName(Type type, bool brief = false);

// Range/syntax checks applied after the type is parsed, identically for
// flag, environment, file and the table's own default.
enum class Check {
  kNone,
  kPort,        // 1–65535
  kPortOrZero,  // 0–65535; 0 disables the listener
  kVerbose,     // 0–7
  kVni,         // VXLAN network identifier, 1–16777215
  kCidr,        // IPv4 or IPv6 prefix, "10.96.0.0/16"
  kPositive,    // int or duration > 0
  kOneOf,       // a string among OptionSpec::choices
  kKeyValue,    // list: every item "key=value" with a non-empty key
};

struct OptionSpec {
  std::string_view flag;  // long name without dashes: "access-token"
  char shortName = 0;     // 'v', or 0
  std::string_view env;   // "LB_ACCESS_TOKEN"
  std::string_view key;   // YAML path as the reference spells it: "storage.etcd.endpoints"
  Type type = Type::kString;
  std::string_view defaultValue;  // text, parsed like any input; "" = unset
  std::string_view description;
  Check check = Check::kNone;
  std::string_view choices;  // comma-separated, for Check::kOneOf
  bool secret = false;       // never printed by describe()
  // A second accepted spelling of `key` (the reference writes "iterface").
  std::string_view altKey;
};

struct ComponentSpec {
  std::string_view name;     // subcommand: "api"
  std::string_view summary;  // one line for `lastbackend --help`
  std::vector<OptionSpec> options;
};

// Every component, in the order `lastbackend --help` lists them.
const std::vector<ComponentSpec>& components();
// The component named `name`, or nullptr.
const ComponentSpec* findComponent(std::string_view name);

using Value =
    std::variant<std::string, int64_t, bool, std::vector<std::string>, std::chrono::milliseconds>;

enum class Source { kDefault, kFile, kEnv, kFlag };
const char* sourceName(Source source);

// Resolved options of one component, keyed by OptionSpec::key. Every option
// of the table has an entry (unset strings are ""), so typed getters on a key
// of the table never fail; a key outside the table is a programming error.
class Values {
 public:
  void set(std::string key, Value value, Source source);
  bool has(std::string_view key) const;
  Source source(std::string_view key) const;

  const std::string& str(std::string_view key) const;
  int64_t integer(std::string_view key) const;
  bool boolean(std::string_view key) const;
  const std::vector<std::string>& list(std::string_view key) const;
  std::chrono::milliseconds duration(std::string_view key) const;

 private:
  struct Entry {
    Value value;
    Source source = Source::kDefault;
  };
  const Entry& at(std::string_view key) const;
  std::map<std::string, Entry, std::less<>> entries_;
};

// Looks up one environment variable; injectable so tests never touch the
// process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup processEnv();
EnvLookup mapEnv(std::map<std::string, std::string> vars);

struct Parsed {
  bool help = false;       // -h/--help was given: print renderHelp(), run nothing
  std::string configFile;  // the -c/LB_CONFIG file read, or ""
  Values values;
};

// Reads `args` (the component's arguments, without program and subcommand
// names), the environment and the config file into Values.
StatusOr<Parsed> parse(const ComponentSpec& spec, const std::vector<std::string>& args,
                       const EnvLookup& env);

// Parses one text value as the option's type and applies its check. `origin`
// names where it came from in errors ("option --bind-port").
StatusOr<Value> parseValue(const OptionSpec& option, std::string_view text,
                           const std::string& origin);

StatusOr<std::chrono::milliseconds> parseDuration(std::string_view text);
std::string formatDuration(std::chrono::milliseconds d);  // "24h", "1m30s", "250ms"
std::string formatValue(const Value& value);

// `lastbackend <component> --help`: every option with flag, env, type,
// default, config key and description, generated from the table.
std::string renderHelp(const ComponentSpec& spec);
// The same facts as a Markdown table, for docs/configuration.md.
std::string renderMarkdown(const ComponentSpec& spec);
// "key = value (source)" per option, secrets shown as <redacted>; safe to log.
std::string describe(const ComponentSpec& spec, const Values& values);

}  // namespace lb::config
