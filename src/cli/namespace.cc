// `lb namespace ...`: ls, create, inspect, update, remove (apply: apply.cc, diff: diff.cc).

#include "cli/commands.h"
#include "cli/format.h"

namespace lb::cli {
namespace {

Status namespaceList(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(list, api->getList<types::Namespace>("/namespace"));
  if (c.table())
    c.out << renderNamespaceList(list);
  else
    c.printList(list);
  return Status::ok();
}

Status namespaceShow(Context& c, const types::Namespace& ns, const char* action) {
  if (!c.table()) {
    c.print(ns);
    return Status::ok();
  }
  if (action) c.out << actionLine("Namespace", ns.meta.name, action);
  c.out << renderNamespace(ns, action == nullptr, c.now());
  return Status::ok();
}

Status namespaceCreate(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  nlohmann::json body = {{"name", c.a.name}, {"description", c.a.desc}};
  LB_ASSIGN_OR_RETURN_STATUS(answer, api->call("POST", "/namespace", body.dump()));
  types::Namespace ns;
  LB_RETURN_IF_ERROR(types::fromJson(answer, &ns));
  return namespaceShow(c, ns, "created");
}

Status namespaceInspect(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(ns, api->getObject<types::Namespace>(namespacePath(c.a.name)));
  return namespaceShow(c, ns, nullptr);
}

Status namespaceUpdate(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(labels, parseKeyValues(c.a.labels));
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(ns, api->getObject<types::Namespace>(namespacePath(c.a.name)));
  nlohmann::json jl = nlohmann::json::object();
  for (const auto& [k, v] : ns.meta.labels) jl[k] = v;
  for (const auto& [k, v] : labels) jl[k] = v;
  nlohmann::json body = {{"description", c.a.descSet ? c.a.desc : ns.meta.description},
                         {"labels", jl}};
  LB_ASSIGN_OR_RETURN_STATUS(answer, api->call("PUT", namespacePath(c.a.name), body.dump()));
  types::Namespace updated;
  LB_RETURN_IF_ERROR(types::fromJson(answer, &updated));
  return namespaceShow(c, updated, "updated");
}

}  // namespace

void addNamespaceCommands(Commands& cmds) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  CLI::App* ns = cmds.group("namespace", "Manage namespaces");
  cmds.verb(ns, "ls", "List namespaces", [&] { return namespaceList(c); });
  {
    auto* s = cmds.verb(ns, "create", "Create a namespace", [&] { return namespaceCreate(c); });
    cmds.nameArg(s, "Namespace");
    cmds.descOption(s, "Description");
  }
  cmds.nameArg(cmds.verb(ns, "inspect", "Show a namespace", [&] { return namespaceInspect(c); }),
               "Namespace");
  {
    auto* s = cmds.verb(ns, "update", "Change a namespace's description or labels",
                        [&] { return namespaceUpdate(c); });
    cmds.nameArg(s, "Namespace");
    cmds.descOption(s, "New description");
    s->add_option("-l,--label", a.labels, "Set a label KEY=VALUE (repeatable)")
        ->allow_extra_args(false);
  }
  cmds.nameArg(
      cmds.verb(ns, "remove", "Remove a namespace and everything in it",
                [&] { return removeObject(c, namespacePath(a.name), "Namespace", a.name); }),
      "Namespace");
  addApplyVerb(cmds, ns);
  addDiffVerb(cmds, ns);
}

}  // namespace lb::cli
