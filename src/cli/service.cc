// `lb service ...`: ls, inspect (with the active deployments and their
// pods), update, remove, logs.

#include "cli/commands.h"

namespace lb::cli {
namespace {

Status serviceList(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(list, api->getList<types::Service>(collectionPath(c.a.ns, "service")));
  if (c.table())
    c.out << renderServiceList(list);
  else
    c.printList(list);
  return Status::ok();
}

Status serviceInspect(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  std::string path = objectPath(c.a.ns, "service", c.a.name);
  LB_ASSIGN_OR_RETURN_STATUS(svc, api->getObject<types::Service>(path));
  if (!c.table()) {
    c.print(svc);
    return Status::ok();
  }
  LB_ASSIGN_OR_RETURN_STATUS(deployments, api->getList<types::Deployment>(path + "/deployment"));
  std::vector<DeploymentView> active;
  for (auto& d : deployments) {
    if (!isActiveDeployment(d)) continue;
    LB_ASSIGN_OR_RETURN_STATUS(
        pods, api->getList<types::Pod>(path + "/deployment/" + http::percentEncode(d.meta.name) +
                                       "/pod"));
    active.push_back({std::move(d), std::move(pods)});
  }
  c.out << renderServiceInspect(svc, active, c.now());
  return Status::ok();
}

Status serviceUpdate(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(doc, singleDocument(c.a.files.at(0), types::Kind::kService, c.a.name));
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(answer, api->call("PUT", objectPath(c.a.ns, "service", c.a.name),
                                               types::toManifestJson(doc)));
  if (!c.table()) {
    LB_ASSIGN_OR_RETURN_STATUS(svc, types::parseJson<types::Service>(answer));
    c.print(svc);
    return Status::ok();
  }
  c.out << actionLine("Service", c.a.name, "updated");
  return Status::ok();
}

Status serviceLogs(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  http::QueryParams q;
  if (c.a.follow) q["follow"] = "true";
  if (c.a.tail >= 0) q["tail"] = std::to_string(c.a.tail);
  return api->stream(objectPath(c.a.ns, "service", c.a.name) + "/logs", q,
                     [&](std::string_view chunk) {
                       c.out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
                       c.out.flush();
                       return static_cast<bool>(c.out);
                     });
}

}  // namespace

void addServiceCommands(Commands& cmds) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  CLI::App* svc = cmds.group("service", "Manage services");
  cmds.nsArg(
      cmds.verb(svc, "ls", "List the services of a namespace", [&] { return serviceList(c); }));
  {
    auto* s = cmds.verb(svc, "inspect", "Show a service with its active deployments and pods",
                        [&] { return serviceInspect(c); });
    cmds.nsArg(s);
    cmds.nameArg(s, "Service");
  }
  {
    auto* s = cmds.verb(svc, "update", "Update a service from a manifest",
                        [&] { return serviceUpdate(c); });
    cmds.nsArg(s);
    cmds.nameArg(s, "Service");
    s->add_option("-f,--file", a.files, "Service manifest file")
        ->required()
        ->expected(1)
        ->check(CLI::ExistingFile);
  }
  {
    auto* s = cmds.verb(svc, "remove", "Remove a service", [&] {
      return removeObject(c, objectPath(a.ns, "service", a.name), "Service", a.name);
    });
    cmds.nsArg(s);
    cmds.nameArg(s, "Service");
  }
  {
    auto* s = cmds.verb(svc, "logs", "Print a service's logs", [&] { return serviceLogs(c); });
    cmds.nsArg(s);
    cmds.nameArg(s, "Service");
    s->add_flag("-f,--follow", a.follow, "Keep printing new lines");
    s->add_option("--tail", a.tail, "Only the last N lines")->check(CLI::NonNegativeNumber);
  }
}

}  // namespace lb::cli
