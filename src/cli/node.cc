// `lb node ...`: ls, inspect, cordon, uncordon.

#include "cli/commands.h"

namespace lb::cli {

void addNodeCommands(Commands& cmds) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  CLI::App* node = cmds.group("node", "Show cluster nodes, cordon and uncordon them");
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
    cmds.nameArg(
        cmds.verb(
            node, verb,
            cordon ? "Place no new pods on a node (the pods on it stay)"
                   : "Let the scheduler place pods on a node again",
            [&c, &a, verb, cordon]() -> Status {
              LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
              LB_ASSIGN_OR_RETURN_STATUS(
                  body,
                  api->call("POST", "/cluster/node/" + http::percentEncode(a.name) + "/" + verb));
              LB_ASSIGN_OR_RETURN_STATUS(n, types::parseJson<types::Node>(body));
              if (!c.table()) {
                c.print(n);
                return Status::ok();
              }
              c.out << "Node `" << a.name << "` is "
                    << (cordon ? "cordoned: no new pods are placed on it" : "schedulable again")
                    << "\n";
              return Status::ok();
            }),
        "Node");
  }
}

}  // namespace lb::cli
