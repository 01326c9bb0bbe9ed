// `lb secret ...`: create, update, ls, inspect, remove (data.h). Values are
// never printed: tables show keys, -o json|yaml blanks the values.

#include "cli/data.h"

namespace lb::cli {

template <>
struct DataKind<types::Secret> {
  static constexpr types::Kind kKind = types::Kind::kSecret;
  static constexpr const char* kName = "Secret";
  static constexpr const char* kCollection = "secret";
  static constexpr bool kAuth = true;
  static std::string render(const types::Secret& s, TimePoint now) { return renderSecret(s, now); }
  static std::string renderList(const std::vector<types::Secret>& l) { return renderSecretList(l); }
  static types::Secret forOutput(const types::Secret& s) { return redact(s); }
};

void addSecretCommands(Commands& cmds) {
  addDataCommands<types::Secret>(cmds, "Manage secrets (auth, text, file)");
}

}  // namespace lb::cli
