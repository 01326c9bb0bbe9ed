#include "cli/data.h"

#include <filesystem>

#include "cli/format.h"

namespace lb::cli {

// -a/-u/-p, -t k=v or -f FILE: exactly one mode, giving the type and data.
StatusOr<types::DataManifestSpec> dataFromArgs(const Args& a, bool allowAuth) {
  int modes = (a.auth ? 1 : 0) + (a.texts.empty() ? 0 : 1) + (a.files.empty() ? 0 : 1);
  if (modes != 1)
    return invalidArgument(allowAuth ? "give exactly one of -a (with -u/-p), -t KEY=VALUE, -f FILE"
                                     : "give exactly one of -t KEY=VALUE, -f FILE");
  types::DataManifestSpec spec;
  auto item = [](std::string k, std::string v) {
    types::DataItem d;
    d.key = std::move(k);
    d.value = std::move(v);
    return d;
  };
  if (a.auth) {
    if (a.user.empty()) return invalidArgument("-a needs -u USERNAME");
    spec.type = types::kSecretAuth;
    spec.data = {item("username", a.user), item("password", a.pass)};
  } else if (!a.texts.empty()) {
    LB_ASSIGN_OR_RETURN_STATUS(kvs, parseKeyValues(a.texts));
    spec.type = types::kSecretText;
    for (auto& [k, v] : kvs) spec.data.push_back(item(k, v));
  } else {
    spec.type = types::kSecretFile;
    for (const auto& f : a.files) {
      std::string key = std::filesystem::path(f).filename().string();
      for (const auto& d : spec.data)
        if (d.key == key) return invalidArgument("two files named `" + key + "`");
      LB_ASSIGN_OR_RETURN_STATUS(content, readFile(f));
      spec.data.push_back(item(key, content));
    }
  }
  return spec;
}

}  // namespace lb::cli
