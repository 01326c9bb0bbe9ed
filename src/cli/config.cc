// `lb config ...`: create, update, ls, inspect, remove (data.h).

#include "cli/data.h"

namespace lb::cli {

template <>
struct DataKind<types::Config> {
  static constexpr types::Kind kKind = types::Kind::kConfig;
  static constexpr const char* kName = "Config";
  static constexpr const char* kCollection = "config";
  static constexpr bool kAuth = false;
  static std::string render(const types::Config& c, TimePoint now) { return renderConfig(c, now); }
  static std::string renderList(const std::vector<types::Config>& l) { return renderConfigList(l); }
  static const types::Config& forOutput(const types::Config& c) { return c; }
};

void addConfigCommands(Commands& cmds) {
  addDataCommands<types::Config>(cmds, "Manage configs (text, file)");
}

}  // namespace lb::cli
