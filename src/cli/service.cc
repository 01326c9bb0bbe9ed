// `lb service ...`: ls, inspect (with the active deployments and their
// pods), history, rollback, update, remove, logs.

#include "cli/commands.h"

namespace lb::cli {
namespace {

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

Status serviceHistory(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  std::string path = objectPath(c.a.ns, "service", c.a.name);
  LB_ASSIGN_OR_RETURN_STATUS(svc, api->getObject<types::Service>(path));
  LB_ASSIGN_OR_RETURN_STATUS(deployments, api->getList<types::Deployment>(path + "/deployment"));
  if (!c.table()) {
    c.printList(deployments);
    return Status::ok();
  }
  c.out << renderServiceHistory(svc, std::move(deployments), c.now());
  return Status::ok();
}

// The cluster puts the kept deployment's spec back; --wait follows the
// rollout that starts as for apply.
Status serviceRollback(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  nlohmann::json body = nlohmann::json::object();
  if (!c.a.deployment.empty()) body["deployment"] = c.a.deployment;
  LB_ASSIGN_OR_RETURN_STATUS(
      answer,
      api->call("POST", objectPath(c.a.ns, "service", c.a.name) + "/rollback", body.dump()));
  auto doc = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("deployment") || !doc["deployment"].is_string())
    return Status(Code::kInternal, "the cluster's rollback answer has no deployment: " + answer);
  if (!c.table()) {
    c.out << (c.output == "json" ? doc.dump(2) + "\n" : answer);
  } else {
    c.out << "Service `" << c.a.name << "` rolls back to the spec of deployment `"
          << doc["deployment"].get<std::string>() << "`\n";
  }
  if (!c.a.wait) return Status::ok();
  return waitForServices(c, *api, c.a.ns, {{c.a.name, ""}});
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
  cmds.listVerb<types::Service>(svc, "service", "List the services of a namespace",
                                renderServiceList);
  cmds.objectVerb(svc, "inspect", "Show a service with its active deployments and pods", "Service",
                  [&] { return serviceInspect(c); });
  cmds.objectVerb(svc, "update", "Update a service from a manifest", "Service",
                  [&] { return serviceUpdate(c); })
      ->add_option("-f,--file", a.files, "Service manifest file")
      ->required()
      ->expected(1)
      ->check(CLI::ExistingFile);
  cmds.objectVerb(svc, "history",
                  "List the service's deployments, newest first: the current one and the "
                  "replaced ones kept for rollback (name, age, images, state)",
                  "Service", [&] { return serviceHistory(c); });
  auto* rollback = cmds.objectVerb(
      svc, "rollback",
      "Roll the service back to the spec of its previous deployment (or of DEPLOYMENT), "
      "blue/green as any rollout",
      "Service", [&] { return serviceRollback(c); });
  rollback->add_option("deployment", a.deployment,
                       "Deployment to go back to, from `lb service history` (default: the "
                       "newest one with another spec)");
  addWaitFlags(rollback, a, "the service");
  cmds.removeVerb(svc, "service", "Service");
  auto* logs = cmds.objectVerb(svc, "logs", "Print a service's logs", "Service",
                               [&] { return serviceLogs(c); });
  logs->add_flag("-f,--follow", a.follow, "Keep printing new lines");
  logs->add_option("--tail", a.tail, "Only the last N lines")->check(CLI::NonNegativeNumber);
  addExecVerb(cmds, svc);
}

}  // namespace lb::cli
