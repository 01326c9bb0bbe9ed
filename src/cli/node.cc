// `lb node ...`: ls, inspect (the cluster's nodes, read only).

#include "cli/commands.h"

namespace lb::cli {

void addNodeCommands(Commands& cmds) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  CLI::App* node = cmds.group("node", "Show cluster nodes");
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
}

}  // namespace lb::cli
