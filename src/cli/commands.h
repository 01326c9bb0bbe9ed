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
  // `lb <parent> NAME NAMESPACE`: a verb on a namespace's objects.
  CLI::App* nsVerb(CLI::App* parent, const std::string& name, const std::string& help,
                   std::function<Status()> fn);
  // `lb <parent> NAME NAMESPACE NAME`: a verb on one object ("<what> name").
  CLI::App* objectVerb(CLI::App* parent, const std::string& name, const std::string& help,
                       const std::string& what, std::function<Status()> fn);
  // `lb <parent> remove NAMESPACE NAME`: "Remove a <collection>", then
  // "<kind> `NAME` is removed".
  void removeVerb(CLI::App* parent, const std::string& collection, const std::string& kind);
  // `ls NAMESPACE`: the objects of `collection`, as a table by `render`.
  template <typename T, typename Render>
  void listVerb(CLI::App* parent, const std::string& collection, const std::string& help,
                Render render) {
    nsVerb(parent, "ls", help, [this, collection, render] {
      return showList<T>(c, collectionPath(a.ns, collection), render);
    });
  }
  // `inspect NAMESPACE NAME`: one object of `collection`, as `render` shows it.
  template <typename T, typename Render>
  void inspectVerb(CLI::App* parent, const std::string& collection, const std::string& help,
                   const std::string& what, Render render) {
    objectVerb(parent, "inspect", help, what, [this, collection, render] {
      return showObject<T>(c, objectPath(a.ns, collection, a.name), render);
    });
  }
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
// `lb namespace apply` (apply.cc) and `lb namespace diff` (diff.cc), added
// to the namespace group.
void addApplyVerb(Commands& cmds, CLI::App* namespaceGroup);
void addDiffVerb(Commands& cmds, CLI::App* namespaceGroup);
// One manifest file through the cluster's apply (a dry run when `dryRun`):
// its answer, checked to hold an items array; `raw` gets the body as sent.
StatusOr<nlohmann::json> applyFile(Api& api, const std::string& ns, const std::string& file,
                                   bool dryRun, std::string* raw = nullptr);
// --wait of apply and rollback: reads the rollouts of `services` (name, the
// deployment hash the cluster answered or "") in namespace `ns` until all
// are done or --wait-timeout passes, progress on stderr, one line on stdout
// per service done.
Status waitForServices(Context& c, Api& api, const std::string& ns,
                       const std::vector<std::pair<std::string, std::string>>& services);
// The --wait and --wait-timeout flags.
void addWaitFlags(CLI::App* verb, Args& a, const std::string& what);
// The required, repeatable `-f,--file` of apply and diff.
void addManifestFilesOption(CLI::App* verb, Args& a);
void addServiceCommands(Commands& cmds);
void addExecVerb(Commands& cmds, CLI::App* serviceGroup);
void addRouteCommands(Commands& cmds);
void addSecretCommands(Commands& cmds);
void addConfigCommands(Commands& cmds);
void addVolumeCommands(Commands& cmds);
void addNodeCommands(Commands& cmds);
void addClusterCommands(Commands& cmds);

}  // namespace lb::cli
