#pragma once

// Private to the `lb` command line: how a noun adds its verbs. app.cc makes
// the CLI11 app with the global flags and hands each noun (one file each:
// namespace.cc, service.cc, route.cc, secret.cc, config.cc, volume.cc,
// node.cc, cluster.cc) a Commands to register its verbs, flags and help on.
// The verb the command line names is the one action that runs.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "cli/context.h"

namespace lb::cli {

class Commands {
 public:
  Commands(CLI::App& app, Context& c) : c(c), a(c.a), app_(app) {}

  // `lb NAME ...`: a noun that needs one of its verbs.
  CLI::App* group(const std::string& name, const std::string& help);
  // `lb <parent> NAME`: runs `fn` when the command line names it.
  CLI::App* verb(CLI::App* parent, const std::string& name, const std::string& help,
                 std::function<Status()> fn);
  // The positional NAMESPACE / NAME ("<what> name") arguments, required.
  void nsArg(CLI::App* s);
  void nameArg(CLI::App* s, const std::string& what);
  // --desc: given (even empty) it replaces the description (Args::descSet).
  void descOption(CLI::App* s, const std::string& help);

  // After parsing: records what was given.
  void parsed();
  const std::function<Status()>& action() const { return action_; }

  Context& c;
  Args& a;

 private:
  CLI::App& app_;
  std::function<Status()> action_;
  std::vector<CLI::Option*> descOptions_;
};

// One per noun file, in the order `lb --help` lists them.
void addNamespaceCommands(Commands& cmds);
// `lb namespace apply` (apply.cc), added to the namespace group.
void addApplyVerb(Commands& cmds, CLI::App* namespaceGroup);
void addServiceCommands(Commands& cmds);
void addRouteCommands(Commands& cmds);
void addSecretCommands(Commands& cmds);
void addConfigCommands(Commands& cmds);
void addVolumeCommands(Commands& cmds);
void addNodeCommands(Commands& cmds);
void addClusterCommands(Commands& cmds);

}  // namespace lb::cli
