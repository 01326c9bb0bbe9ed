// `lb cluster ...`: inspect (the cluster lb talks to), and the clusters lb
// knows (cluster_store.h): add, select, ls, del.

#include <filesystem>

#include "cli/commands.h"

namespace lb::cli {
namespace {

Status clusterAdd(Context& c) {
  ClusterEntry e;
  e.name = c.a.name;
  bool tls = c.flags.tls || !c.flags.caFile.empty() || !c.flags.certFile.empty();
  e.endpoint = normalizeUrl(c.a.url, tls);
  e.token = c.flags.token;
  auto absolute = [](const std::string& p) {
    return p.empty() ? p : std::filesystem::absolute(p).lexically_normal().string();
  };
  e.caFile = absolute(c.flags.caFile);
  e.certFile = absolute(c.flags.certFile);
  e.keyFile = absolute(c.flags.keyFile);
  LB_RETURN_IF_ERROR(c.store().add(e));
  c.out << "Cluster `" << e.name << "` is added\n";
  return Status::ok();
}

Status clusterList(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(config, c.store().load());
  std::vector<ClusterRow> rows;
  for (const auto& e : config.clusters)
    rows.push_back({e.name, e.endpoint, e.name == config.current});
  c.out << renderClusterList(rows);
  return Status::ok();
}

Status clusterSelect(Context& c) {
  LB_RETURN_IF_ERROR(c.store().select(c.a.name));
  c.out << "Cluster `" << c.a.name << "` is selected\n";
  return Status::ok();
}

Status clusterDel(Context& c) {
  LB_RETURN_IF_ERROR(c.store().remove(c.a.name));
  c.out << "Cluster `" << c.a.name << "` is removed\n";
  return Status::ok();
}

}  // namespace

void addClusterCommands(Commands& cmds) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  CLI::App* cl = cmds.group("cluster", "Show the cluster; manage the clusters lb knows");
  cmds.verb(cl, "inspect", "Show the current cluster",
            [&] { return showObject<types::Cluster>(c, "/cluster", renderCluster); });
  {
    auto* s = cmds.verb(cl, "add",
                        "Remember a cluster: NAME URL, with the global --token, --tls, "
                        "--tlscacert, --tlscert, --tlskey (the first one added is selected)",
                        [&] { return clusterAdd(c); });
    cmds.nameArg(s, "Cluster");
    s->add_option("URL", a.url, "REST API URL, e.g. http://127.0.0.1:2967")->required();
  }
  cmds.nameArg(cmds.verb(cl, "select", "Make a stored cluster the default",
                         [&] { return clusterSelect(c); }),
               "Cluster");
  cmds.verb(cl, "ls", "List stored clusters (* marks the selected one)",
            [&] { return clusterList(c); });
  cmds.nameArg(cmds.verb(cl, "del", "Forget a stored cluster", [&] { return clusterDel(c); }),
               "Cluster");
}

}  // namespace lb::cli
