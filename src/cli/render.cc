#include "cli/render.h"

#include <algorithm>
#include <tuple>

#include "cli/format.h"
#include "lastbackend/types/quantity.h"

namespace lb::cli {
namespace {

std::string keysOf(const std::map<std::string, std::string>& data) {
  std::string out;
  for (const auto& [k, v] : data) out += (out.empty() ? "" : ",") + k;
  return out;
}

std::string capacity(int64_t allocated, int64_t total, std::string (*fmt)(int64_t)) {
  return fmt(allocated) + "/" + fmt(total);
}

std::string plainNumber(int64_t n) { return std::to_string(n); }

// A namespace's use of one quota limit: "used/limit", or "used (no limit)".
std::string quotaUse(int64_t used, int64_t limit, std::string (*fmt)(int64_t)) {
  return limit > 0 ? capacity(used, limit, fmt) : fmt(used) + " (no limit)";
}

// Online nodes the pod range has no subnet for are not ready for pods; a
// cordoned node says so, a drained or draining one how far it is.
std::string nodeState(const types::Node& n) {
  std::string state = !n.status.online                 ? "offline"
                      : n.spec.network.message.empty() ? "online"
                                                       : "not ready";
  const auto& drain = n.spec.drain;
  if (drain.state == "draining")
    return state + ", draining (" + std::to_string(drain.pods) + " pod" +
           (drain.pods == 1 ? "" : "s") + " left)";
  if (!drain.state.empty()) return state + ", " + drain.state;
  return n.spec.unschedulable ? state + ", cordoned" : state;
}

}  // namespace

std::string namespaceEndpoint(const types::Namespace& ns) {
  const std::string& name = ns.meta.name;
  const std::string& internal = ns.spec.domain.internal;
  if (internal.empty()) return name + ".lb.local";
  if (internal.rfind(name + ".", 0) == 0) return internal;
  return name + "." + internal;
}

std::string serviceEndpoint(std::string_view ns, std::string_view service) {
  return std::string(service) + "." + std::string(ns) + ".lb.local";
}

std::string renderNamespaceList(const std::vector<types::Namespace>& list) {
  Table t({"NAME", "DESCRIPTION", "ENDPOINT"});
  for (const auto& ns : list) t.addRow({ns.meta.name, ns.meta.description, namespaceEndpoint(ns)});
  return t.render();
}

std::string renderNamespace(const types::Namespace& ns, bool detailed, TimePoint now) {
  Fields f{{"NAME", ns.meta.name},
           {"DESCRIPTION", ns.meta.description},
           {"ENDPOINT", namespaceEndpoint(ns)}};
  if (detailed) {
    f.push_back({"LABELS", joinLabels(ns.meta.labels)});
    f.push_back({"CREATED", formatAge(ns.meta.created, now)});
    f.push_back({"UPDATED", formatAge(ns.meta.updated, now)});
    // The quota: what the services take of each limit.
    const auto& l = ns.spec.resources.limits;
    const types::NamespaceAmounts u = ns.status.usage.value_or(types::NamespaceAmounts{});
    f.push_back({"RAM", quotaUse(u.ram, l.ram, &types::formatMemory)});
    f.push_back({"CPU", quotaUse(u.cpu, l.cpu, &types::formatCpu)});
    f.push_back({"PODS", quotaUse(u.pods, l.pods, &plainNumber)});
    f.push_back({"SERVICES", quotaUse(u.services, l.services, &plainNumber)});
  }
  return renderFields(f);
}

std::string renderServiceList(const std::vector<types::Service>& list) {
  Table t({"NAME", "ENDPOINT", "STATUS", "REPLICAS"});
  for (const auto& s : list)
    t.addRow({s.meta.name, serviceEndpoint(s.meta.namespace_, s.meta.name),
              types::stateName(s.status.state), std::to_string(s.spec.replicas)});
  return t.render();
}

bool isActiveDeployment(const types::Deployment& d) {
  return d.status.state != types::State::kDestroy && d.status.state != types::State::kDestroyed;
}

std::string renderServiceHistory(const types::Service& svc,
                                 std::vector<types::Deployment> deployments, TimePoint now) {
  std::sort(deployments.begin(), deployments.end(), [](const auto& x, const auto& y) {
    return std::tie(x.meta.created, x.meta.name) > std::tie(y.meta.created, y.meta.name);
  });
  Table t({"DEPLOYMENT", "CREATED", "IMAGES", "STATE", "PODS", "MESSAGE"});
  bool marked = false;
  for (const auto& d : deployments) {
    std::string images;
    for (const auto& c : d.spec.template_.containers)
      images += (images.empty() ? "" : ",") + c.image.name;
    const bool active = isActiveDeployment(d);
    std::string state = active ? types::stateName(d.status.state) : "retired";
    if (active && !marked && d.spec.template_ == svc.spec.template_) {
      state += " (current)";
      marked = true;
    }
    t.addRow({d.meta.name, formatAge(d.meta.created, now), images, state,
              active
                  ? std::to_string(d.status.replicas.ready) + "/" + std::to_string(d.spec.replicas)
                  : "",
              d.status.message});
  }
  return t.render();
}

namespace {

// "Message:" after "State:" when the status says why it is not ready yet.
Fields withMessage(Fields fields, const std::string& message) {
  if (!message.empty()) fields.insert(fields.begin() + 2, {"Message:", message});
  return fields;
}

std::string podMessage(const types::Pod& p) {
  if (!p.status.message.empty()) return p.status.message;
  for (const auto& c : p.status.containers)
    if (!c.message.empty()) return c.name.empty() ? c.message : c.name + ": " + c.message;
  return "";
}

// Name Ready Status Restarts Age, and Message when any pod has one.
std::string renderPods(const std::vector<types::Pod>& list, TimePoint now) {
  const bool messages = std::any_of(list.begin(), list.end(),
                                    [](const types::Pod& p) { return !podMessage(p).empty(); });
  std::vector<std::string> headers{"Name", "Ready", "Status", "Restarts", "Age"};
  if (messages) headers.emplace_back("Message");
  Table pods(std::move(headers));
  for (const auto& p : list) {
    size_t total = p.status.containers.size();
    if (total == 0) total = p.spec.template_.containers.size();
    int ready = 0, restarts = 0;
    for (const auto& c : p.status.containers) {
      ready += c.ready ? 1 : 0;
      restarts += c.restarts;
    }
    std::vector<std::string> row{p.meta.name, std::to_string(ready) + "/" + std::to_string(total),
                                 types::stateName(p.status.state), std::to_string(restarts),
                                 formatAge(p.meta.created, now)};
    if (messages) row.push_back(podMessage(p));
    pods.addRow(std::move(row));
  }
  return pods.render(2);
}

}  // namespace

std::string renderServiceInspect(const types::Service& svc,
                                 const std::vector<DeploymentView>& active, TimePoint now) {
  // The VIP beside the name it answers to.
  std::string endpoint = serviceEndpoint(svc.meta.namespace_, svc.meta.name);
  if (!svc.status.ip.empty()) endpoint += " (" + svc.status.ip + ")";
  std::string out = renderFields(withMessage({{"Name:", svc.meta.namespace_ + "/" + svc.meta.name},
                                              {"State:", types::stateName(svc.status.state)},
                                              {"Endpoint:", endpoint},
                                              {"Created:", formatAge(svc.meta.created, now)},
                                              {"Updated:", formatAge(svc.meta.updated, now)},
                                              {"Labels:", joinLabels(svc.meta.labels)}},
                                             svc.status.message));
  out += "\nActive deployments:\n";
  if (active.empty()) out += "\n  none\n";
  for (const auto& view : active) {
    const auto& d = view.deployment;
    out += "\n";
    out += renderFields(withMessage({{"Name:", d.meta.name},
                                     {"State:", types::stateName(d.status.state)},
                                     {"Created:", formatAge(d.meta.created, now)},
                                     {"Updated:", formatAge(d.meta.updated, now)}},
                                    d.status.message),
                        2);
    out += "\n  Pods:\n\n";
    out += renderPods(view.pods, now);
  }
  return out;
}

std::string renderRouteList(const std::vector<types::Route>& list) {
  Table t({"NAMESPACE", "NAME", "DOMAIN", "HTTPS", "STATUS"});
  for (const auto& r : list)
    t.addRow({r.meta.namespace_, r.meta.name, r.spec.domain,
              !r.spec.tls.secret.empty() || r.spec.port == 443 ? "yes" : "", r.status.state});
  return t.render();
}

std::string renderRoute(const types::Route& route) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"NAME", route.meta.name},
      {"NAMESPACE", route.meta.namespace_},
      {"DOMAIN", route.spec.domain},
      {"PORT", std::to_string(route.spec.port)}};
  if (!route.spec.tls.secret.empty())
    fields.push_back({"HTTPS", "yes (certificate from secret " + route.spec.tls.secret +
                                   (route.spec.tls.redirect ? "; http redirects here)" : ")")});
  fields.push_back({"STATUS", route.status.state});
  if (!route.status.message.empty()) fields.push_back({"MESSAGE", route.status.message});
  std::string out = renderFields(fields);
  Table rules({"PATH", "SERVICE", "ENDPOINT", "PORT"});
  for (const auto& r : route.spec.rules)
    rules.addRow({r.path.empty() ? "/" : r.path, r.service,
                  serviceEndpoint(route.meta.namespace_, r.service), std::to_string(r.port)});
  return out + "\n" + rules.render();
}

std::string renderSecretList(const std::vector<types::Secret>& list) {
  Table t({"NAME", "TYPE", "KEYS"});
  for (const auto& s : list) t.addRow({s.meta.name, s.spec.type, keysOf(s.spec.data)});
  return t.render();
}

std::string renderSecret(const types::Secret& s, TimePoint now) {
  return renderFields({{"NAME", s.meta.name},
                       {"NAMESPACE", s.meta.namespace_},
                       {"TYPE", s.spec.type},
                       {"KEYS", keysOf(s.spec.data)},
                       {"CREATED", formatAge(s.meta.created, now)},
                       {"UPDATED", formatAge(s.meta.updated, now)}});
}

types::Secret redact(types::Secret secret) {
  for (auto& [k, v] : secret.spec.data) v.clear();
  return secret;
}

std::string renderConfigList(const std::vector<types::Config>& list) {
  Table t({"NAME", "TYPE", "KEYS"});
  for (const auto& c : list) t.addRow({c.meta.name, c.spec.type, keysOf(c.spec.data)});
  return t.render();
}

std::string renderConfig(const types::Config& c, TimePoint now) {
  std::string out = renderFields({{"NAME", c.meta.name},
                                  {"NAMESPACE", c.meta.namespace_},
                                  {"TYPE", c.spec.type},
                                  {"CREATED", formatAge(c.meta.created, now)},
                                  {"UPDATED", formatAge(c.meta.updated, now)}});
  bool files = c.spec.type == types::kSecretFile;
  Table data({"KEY", files ? "SIZE" : "VALUE"});
  for (const auto& [k, v] : c.spec.data) {
    bool oneLine = v.find('\n') == std::string::npos;
    data.addRow({k, files || !oneLine ? std::to_string(v.size()) + " bytes" : v});
  }
  return out + "\n" + data.render();
}

std::string renderVolumeList(const std::vector<types::Volume>& list) {
  Table t({"NAME", "TYPE", "CAPACITY", "STATUS"});
  for (const auto& v : list)
    t.addRow({v.meta.name, v.spec.type, types::formatMemory(v.spec.capacity.storage),
              types::stateName(v.status.state)});
  return t.render();
}

std::string renderVolume(const types::Volume& v, TimePoint now) {
  return renderFields({{"NAME", v.meta.name},
                       {"NAMESPACE", v.meta.namespace_},
                       {"TYPE", v.spec.type},
                       {"CAPACITY", types::formatMemory(v.spec.capacity.storage)},
                       {"ACCESS MODE", v.spec.accessMode},
                       {"STATUS", types::stateName(v.status.state)},
                       {"READY", v.status.ready ? "yes" : "no"},
                       {"PATH", v.status.path},
                       {"CREATED", formatAge(v.meta.created, now)}});
}

std::string renderNodeList(const std::vector<types::Node>& list, TimePoint now) {
  Table t({"NAME", "ADDRESS", "OS", "ARCH", "STATUS", "PODS", "HEARTBEAT"});
  for (const auto& n : list)
    t.addRow(
        {n.meta.name, n.info.internalIp, n.info.os, n.info.architecture, nodeState(n),
         std::to_string(n.status.allocated.pods) + "/" + std::to_string(n.status.capacity.pods),
         formatAge(n.status.heartbeat, now)});
  return t.render();
}

std::string renderNode(const types::Node& n, TimePoint now) {
  const auto& a = n.status.allocated;
  const auto& c = n.status.capacity;
  Fields f{{"NAME", n.meta.name},
           {"HOSTNAME", n.info.hostname},
           {"OS", n.info.os},
           {"ARCH", n.info.architecture},
           {"EXTERNAL IP", n.info.externalIp},
           {"INTERNAL IP", n.info.internalIp},
           {"POD SUBNET", n.spec.network.cidr},
           {"LABELS", joinLabels(n.info.labels)},
           {"STATUS", nodeState(n)},
           {"SCHEDULABLE", n.spec.unschedulable ? "no" : "yes"},
           {"CPU", capacity(a.cpu, c.cpu, &types::formatCpu)},
           {"RAM", capacity(a.ram, c.ram, &types::formatMemory)},
           {"STORAGE", capacity(a.storage, c.storage, &types::formatMemory)},
           {"PODS", capacity(a.pods, c.pods, &plainNumber)},
           {"HEARTBEAT", formatAge(n.status.heartbeat, now)}};
  // Why it is not ready, under its STATUS.
  if (!n.spec.network.message.empty()) f.insert(f.begin() + 9, {"MESSAGE", n.spec.network.message});
  return renderFields(f);
}

std::string renderCluster(const types::Cluster& cl) {
  const auto& a = cl.status.allocated;
  const auto& c = cl.status.capacity;
  return renderFields({{"NAME", cl.meta.name},
                       {"DESCRIPTION", cl.meta.description},
                       {"NODES", std::to_string(cl.status.nodes)},
                       {"CPU", capacity(a.cpu, c.cpu, &types::formatCpu)},
                       {"RAM", capacity(a.ram, c.ram, &types::formatMemory)},
                       {"STORAGE", capacity(a.storage, c.storage, &types::formatMemory)},
                       {"PODS", capacity(a.pods, c.pods, &plainNumber)}});
}

std::string renderClusterList(const std::vector<ClusterRow>& rows) {
  Table t({"NAME", "ENDPOINT", "SELECTED"});
  for (const auto& r : rows) t.addRow({r.name, r.endpoint, r.selected ? "*" : ""});
  return t.render();
}

std::string actionLine(std::string_view kind, std::string_view name, std::string_view action) {
  return std::string(kind) + " `" + std::string(name) + "` is " + std::string(action) + "\n";
}

}  // namespace lb::cli
