// The `lb` core: global flags, one group of verbs per noun (commands.h),
// parsing, and the one-line error every failure ends in.

#include "cli/app.h"

#include <algorithm>
#include <cstdlib>

#include "cli/commands.h"

namespace lb::cli {

CLI::App* Commands::group(const std::string& name, const std::string& help) {
  CLI::App* g = app_.add_subcommand(name, help);
  g->require_subcommand(1);
  return g;
}

CLI::App* Commands::verb(CLI::App* parent, const std::string& name, const std::string& help,
                         std::function<Status()> fn) {
  CLI::App* sub = parent->add_subcommand(name, help);
  sub->callback([this, fn = std::move(fn)] { action_ = fn; });
  return sub;
}

void Commands::nsArg(CLI::App* s) {
  s->add_option("NAMESPACE", a.ns, "Namespace name")->required();
}

void Commands::nameArg(CLI::App* s, const std::string& what) {
  s->add_option("NAME", a.name, what + " name")->required();
}

CLI::App* Commands::nsVerb(CLI::App* parent, const std::string& name, const std::string& help,
                           std::function<Status()> fn) {
  CLI::App* s = verb(parent, name, help, std::move(fn));
  nsArg(s);
  return s;
}

CLI::App* Commands::objectVerb(CLI::App* parent, const std::string& name, const std::string& help,
                               const std::string& what, std::function<Status()> fn) {
  CLI::App* s = nsVerb(parent, name, help, std::move(fn));
  nameArg(s, what);
  return s;
}

void Commands::removeVerb(CLI::App* parent, const std::string& collection,
                          const std::string& kind) {
  objectVerb(parent, "remove", "Remove a " + collection, kind, [this, collection, kind] {
    return removeObject(c, objectPath(a.ns, collection, a.name), kind, a.name);
  });
}

void Commands::descOption(CLI::App* s, const std::string& help) {
  descOptions_.push_back(s->add_option("--desc", a.desc, help));
}

void Commands::parsed() {
  for (auto* o : descOptions_) a.descSet = a.descSet || o->count() > 0;
}

namespace {

void addGlobalFlags(CLI::App& app, Context& c) {
  app.footer(
      "Environment: LB_HOST (cluster URL), LB_TOKEN (access token). Precedence: flag > -C "
      "cluster > env > selected cluster.\nClusters are stored in ~/.lastbackend/config.yml.");
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted after the verb too
  app.add_option("--host", c.flags.host, "Cluster REST API URL, e.g. http://127.0.0.1:2967");
  app.add_option("--token", c.flags.token, "Access token (sent as Authorization: Bearer)");
  app.add_option("-C,--cluster", c.flags.cluster,
                 "Use this stored cluster instead of the selected one");
  app.add_flag("--tls", c.flags.tls, "Use HTTPS");
  app.add_option("--tlscacert", c.flags.caFile, "CA certificate to verify the cluster with");
  app.add_option("--tlscert", c.flags.certFile, "Client certificate (mutual TLS)");
  app.add_option("--tlskey", c.flags.keyFile, "Client certificate key (mutual TLS)");
  app.add_option("-o,--output", c.output, "Output format: json or yaml (default: table)")
      ->check(CLI::IsMember({"json", "yaml"}));
}

std::string errorLine(const Status& s) {
  std::string msg = s.message();
  if (s.code() == Code::kUnauthenticated) {
    std::string lower = msg;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.find("unauthorized") == std::string::npos) msg = "unauthorized: " + msg;
  }
  if (!s.field().empty() && msg.find(s.field()) == std::string::npos)
    msg += " (field " + s.field() + ")";
  return "lb: " + msg + "\n";
}

}  // namespace

Environment environmentFromProcess() {
  Environment env;
  auto get = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
  };
  env.home = get("HOME");
  env.lbHost = get("LB_HOST");
  env.lbToken = get("LB_TOKEN");
  return env;
}

int run(int argc, const char* const argv[], const Environment& env, std::ostream& out,
        std::ostream& err) {
  Context c(env, out, err);
  CLI::App app{"lb: command line client of a Last.Backend cluster", "lb"};
  addGlobalFlags(app, c);
  Commands cmds(app, c);
  addNamespaceCommands(cmds);
  addServiceCommands(cmds);
  addRouteCommands(cmds);
  addSecretCommands(cmds);
  addConfigCommands(cmds);
  addVolumeCommands(cmds);
  addNodeCommands(cmds);
  addClusterCommands(cmds);

  // The words after "--" are a command (`lb service exec ... -- CMD`), not
  // arguments of lb.
  int own = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--") continue;
    own = i;
    c.a.command.assign(argv + i + 1, argv + argc);
    break;
  }
  try {
    app.parse(own, argv);
    cmds.parsed();
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  if (!cmds.action()) return 1;
  if (own < argc && !app.got_subcommand("service")) {
    err << "lb: `--` and a command after it are for `lb service exec` only\n";
    return 1;
  }
  Status s = cmds.action()();
  if (!s.isOk()) {
    out.flush();
    err << errorLine(s);
    return c.errorExitCode;
  }
  return c.exitCode;
}

}  // namespace lb::cli
