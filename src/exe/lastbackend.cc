// `lastbackend <component> [options]`: parses the component's options (one
// generic loader, src/config), sets the log level and hands a typed config to
// the component's run function from the run table below.
//
// Exit codes: 0 success / help, 1 the component failed or is not built,
// 2 bad command line or configuration.

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"
#include "common/driver_table.h"
#include "controller/controller.h"
#include "discovery/discovery.h"
#include "ingress/ingress.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/config/config.h"
#include "lastbackend/config/options.h"
#include "lastbackend/config/run.h"
#include "node/node.h"
#include "server/server.h"

namespace {

using namespace lb::config;  // NOLINT: a main() file, nothing else lives here

// Placeholder run function of a component that is not in this build yet.
template <typename Config>
int notBuilt(const Config&) {
  std::fprintf(stderr, "lastbackend: component '%s' is not part of this build yet\n",
               std::string(Config::kComponent).c_str());
  return 1;
}

// Builds the typed config from resolved values and calls the component.
template <typename Config, int (*Run)(const Config&)>
int launch(const Values& values) {
  auto config = fromValues<Config>(values);
  if (!config) {
    std::fprintf(stderr, "lastbackend %s: %s\n", std::string(Config::kComponent).c_str(),
                 config.status().message().c_str());
    return 2;
  }
  return Run(*config);
}

using RunFn = int (*)(const Values&);

// THE run table. To wire a component in, include its header above and
// replace its notBuilt<...> with the real run function, e.g.
//   {"api", launch<ApiConfig, &lb::api::run>},
// (its library is linked automatically by src/exe/CMakeLists.txt). A run
// function blocks until shutdown (see lastbackend/config/run.h) and returns
// the exit code. Names must match a table in src/config/tables.cc.
constexpr lb::DriverTable<RunFn, 7> kRunTable{
    "command",
    "",
    {{
        {"server", launch<ServerConfig, &lb::server::run>},
        {"api", launch<ApiConfig, &lb::api::run>},
        {"controller", launch<ControllerConfig, &lb::controller::run>},
        {"node", launch<NodeConfig, &lb::node::run>},
        {"discovery", launch<DiscoveryConfig, &lb::discovery::run>},
        {"ingress", launch<IngressConfig, &lb::ingress::run>},
        {"exporter", launch<ExporterConfig, &notBuilt<ExporterConfig>>},
    }}};

std::string topHelp() {
  std::string out =
      "Usage: lastbackend <command> [options]\n\n"
      "Last.Backend container platform daemon.\n\nCommands:\n";
  for (const auto& c : components()) {
    std::string name(c.name);
    out += "  " + name + std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') +
           std::string(c.summary) + "\n";
  }
  out +=
      "\nGlobal options:\n"
      "  -h, --help     Print this help\n"
      "  --version      Print the version\n\n"
      "Run 'lastbackend <command> --help' for the options of a command.\n";
  return out;
}

// Markdown tables of every component, pasted into docs/configuration.md
// (a unit test checks that file is up to date).
std::string markdownReference() {
  std::string out;
  for (const auto& c : components()) {
    out += "### " + std::string(c.name) + "\n\n" + std::string(c.summary) + "\n\n" +
           renderMarkdown(c) + "\n";
  }
  return out;
}

}  // namespace

static int runCommand(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(topHelp().c_str(), stderr);
    return 2;
  }
  const std::string command = args.front();
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(topHelp().c_str(), stdout);
    return 0;
  }
  if (command == "--version" || command == "version") {
    std::printf("lastbackend %s\n", LB_VERSION);
    return 0;
  }
  if (command == "--help-markdown") {
    std::fputs(markdownReference().c_str(), stdout);
    return 0;
  }

  auto run = kRunTable.lookup(command);
  const ComponentSpec* spec = findComponent(command);
  if (!run.isOk() || !spec) {
    lb::Status unknown =
        run.isOk() ? lb::unknownName("command", command, kRunTable.names()) : run.status();
    std::fprintf(stderr, "lastbackend: %s\n", unknown.message().c_str());
    return 2;
  }

  args.erase(args.begin());
  auto parsed = parse(*spec, args, processEnv());
  if (!parsed) {
    std::fprintf(stderr, "lastbackend %s: %s\n", command.c_str(),
                 parsed.status().message().c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(renderHelp(*spec).c_str(), stdout);
    return 0;
  }

  lb::log::setVerbosity(static_cast<int>(parsed->values.integer("verbose")));
  // describe() redacts secrets, so the resolved configuration is safe to log.
  spdlog::debug("lastbackend {} configuration{}:\n{}", command,
                parsed->configFile.empty() ? "" : " (file " + parsed->configFile + ")",
                describe(*spec, parsed->values));
  // Before any component thread exists, so all of them inherit the mask.
  blockShutdownSignals();
  return (*run)(parsed->values);
}

// What escapes a component is a bug: say so, and exit non-zero.
int main(int argc, char** argv) {
  try {
    return runCommand(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lastbackend: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "lastbackend: internal error\n");
  }
  return 70;
}
