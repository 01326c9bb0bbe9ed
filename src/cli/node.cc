// `lb node ...`: ls, inspect, cordon, uncordon, drain.

#include <chrono>
#include <thread>

#include "cli/commands.h"

namespace lb::cli {

namespace {

StatusOr<types::Node> postNode(Api& api, const std::string& name, const std::string& verb) {
  LB_ASSIGN_OR_RETURN_STATUS(
      body, api.call("POST", "/cluster/node/" + http::percentEncode(name) + "/" + verb));
  return types::parseJson<types::Node>(body);
}

// POST .../drain, then (unless --no-wait) the node every 500 ms until the
// controller says it is drained, the pods left on stderr as they go.
Status drainNode(Context& c) {
  using Clock = std::chrono::steady_clock;
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  const std::string& name = c.a.name;
  LB_ASSIGN_OR_RETURN_STATUS(n, postNode(*api, name, "drain"));
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(c.a.waitTimeout);
  int shown = -1;
  while (!c.a.noWait && n.spec.drain.state != "drained") {
    if (n.spec.drain.pods != shown && c.table()) {
      c.err << "draining: " << n.spec.drain.pods << " pod" << (n.spec.drain.pods == 1 ? "" : "s")
            << " left on node `" << name << "`\n";
      shown = n.spec.drain.pods;
    }
    if (Clock::now() >= deadline)
      return Status(Code::kDeadlineExceeded,
                    "node '" + name + "' not drained after " + std::to_string(c.a.waitTimeout) +
                        " s (--timeout): " + std::to_string(n.spec.drain.pods) + " pods left");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    LB_ASSIGN_OR_RETURN_STATUS(body,
                               api->call("GET", "/cluster/node/" + http::percentEncode(name)));
    LB_ASSIGN_OR_RETURN_STATUS(next, types::parseJson<types::Node>(body));
    n = std::move(next);
  }
  if (!c.table()) {
    c.print(n);
    return Status::ok();
  }
  if (n.spec.drain.state != "drained") {
    c.out << "Node `" << name << "` is cordoned and draining: " << n.spec.drain.pods
          << " pods to move (lb node ls shows when it is drained)\n";
    return Status::ok();
  }
  char took[32];
  std::snprintf(took, sizeof took, "%.1f s",
                std::chrono::duration<double>(Clock::now() - start).count());
  c.out << "Node `" << name << "` is drained: no pods on it, none placed on it (" << took << ")\n";
  return Status::ok();
}

}  // namespace

void addNodeCommands(Commands& cmds) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  CLI::App* node = cmds.group("node", "Show cluster nodes; cordon, uncordon and drain them");
  cmds.verb(node, "ls", "List nodes", [&] {
    return showList<types::Node>(c, "/cluster/node",
                                 [&](const auto& l) { return renderNodeList(l, c.now()); });
  });
  cmds.nameArg(cmds.verb(node, "inspect", "Show a node",
                         [&] {
                           return showObject<types::Node>(
                               c, "/cluster/node/" + http::percentEncode(a.name),
                               [&](const auto& n) { return renderNode(n, c.now()); });
                         }),
               "Node");
  // cordon / uncordon: POST .../cordon|uncordon, then the node's line.
  for (bool cordon : {true, false}) {
    const std::string verb = cordon ? "cordon" : "uncordon";
    cmds.nameArg(cmds.verb(node, verb,
                           cordon ? "Place no new pods on a node (the pods on it stay)"
                                  : "Let the scheduler place pods on a node again (ends a drain)",
                           [&c, &a, verb, cordon]() -> Status {
                             LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
                             LB_ASSIGN_OR_RETURN_STATUS(n, postNode(*api, a.name, verb));
                             if (!c.table()) {
                               c.print(n);
                               return Status::ok();
                             }
                             c.out << "Node `" << a.name << "` is "
                                   << (cordon ? "cordoned: no new pods are placed on it"
                                              : "schedulable again")
                                   << "\n";
                             return Status::ok();
                           }),
                 "Node");
  }
  auto* drain = cmds.verb(node, "drain",
                          "Cordon a node and move its pods elsewhere, each old pod staying until "
                          "its replacement is ready; waits until the node is empty",
                          [&c] { return drainNode(c); });
  cmds.nameArg(drain, "Node");
  drain->add_flag("--no-wait", a.noWait, "Return once the drain has started");
  drain->add_option("--timeout", a.waitTimeout, "Seconds to wait for the node to be empty")
      ->default_val(300)
      ->check(CLI::PositiveNumber);
}

}  // namespace lb::cli
