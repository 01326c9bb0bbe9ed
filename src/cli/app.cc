#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cli/api.h"
#include "cli/cluster_store.h"
#include "cli/endpoint.h"
#include "cli/format.h"
#include "cli/render.h"
#include "cli/rollout.h"
#include "lastbackend/types/manifest.h"

namespace lb::cli {
namespace {

namespace fs = std::filesystem;
using types::Kind;

// Everything the verbs read from the command line; one verb runs per process,
// so they share one bag of arguments.
struct Args {
  std::string ns, name, url, desc;
  bool descSet = false;
  std::vector<std::string> files, texts, labels, rules;
  bool auth = false;
  std::string user, pass, domain, path;
  int port = 0;
  bool follow = false;
  int tail = -1;
  bool wait = false;
  int waitTimeout = 300;  // seconds
};

class Context {
 public:
  Context(const Environment& env, std::ostream& out, std::ostream& err)
      : env_(env), out(out), err(err), store_(env.home) {}

  const Environment& env_;
  std::ostream& out;
  std::ostream& err;
  EndpointFlags flags;
  std::string output;  // "" (table) | json | yaml
  Args a;

  ClusterStore& store() { return store_; }
  TimePoint now() const { return env_.now(); }

  StatusOr<Api*> api() {
    if (api_) return api_.get();
    auto config = store_.load();
    if (!config.isOk()) return config.status();
    auto endpoint = resolveEndpoint(flags, {env_.lbHost, env_.lbToken}, *config);
    if (!endpoint.isOk()) return endpoint.status();
    auto api = Api::connect(*endpoint);
    if (!api.isOk()) return api.status();
    api_ = std::move(*api);
    return api_.get();
  }

  bool table() const { return output.empty(); }

  template <typename T>
  void print(const T& value) {
    if (output == "json")
      out << types::toJson(value, true) << "\n";
    else
      out << withNewline(types::toYaml(value));
  }

  template <typename T>
  void printList(const std::vector<T>& values) {
    if (output == "json") {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& v : values) array.push_back(nlohmann::json::parse(types::toJson(v)));
      out << array.dump(2) << "\n";
      return;
    }
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out << "---\n";
      out << withNewline(types::toYaml(values[i]));
    }
  }

 private:
  static std::string withNewline(std::string s) {
    if (!s.empty() && s.back() != '\n') s += '\n';
    return s;
  }
  ClusterStore store_;
  std::unique_ptr<Api> api_;
};

#define LB_ASSIGN_OR_RETURN_STATUS(lhs, expr)     \
  auto lhs##_or = (expr);                         \
  if (!lhs##_or.isOk()) return lhs##_or.status(); \
  auto& lhs = *lhs##_or;

StatusOr<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalidArgument("cannot read `" + path + "`: " + std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// ---- namespace --------------------------------------------------------------

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

Status removeObject(Context& c, const std::string& path, std::string_view kind,
                    const std::string& name) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(answer, api->call("DELETE", path));
  (void)answer;
  c.out << actionLine(kind, name, "removed");
  return Status::ok();
}

// Manifests reference `file:` items relative to themselves, which the server
// cannot read: such files are parsed here and sent with the files inlined.
// Anything else goes to the server as the user wrote it.
StatusOr<std::string> manifestBody(const std::string& path, const std::string& text) {
  types::ParseOptions opts;
  opts.baseDir = fs::path(path).parent_path().string();
  if (opts.baseDir.empty()) opts.baseDir = ".";
  auto docs = types::parseManifests(text, opts);
  if (!docs.isOk()) {
    const Status& s = docs.status();
    return Status(s.code(), path + ": " + s.message(), s.field());
  }
  if (text.find("file:") == std::string::npos) return text;
  std::string body;
  for (const auto& d : *docs) body += "---\n" + types::toManifestYaml(d);
  return body;
}

// Where the rollout of service `name` in `ns` has come (see rollout.h): from
// the deployments' counts, confirmed from the pods once those say done (or
// when `pods`, for the pods' messages).
StatusOr<Rollout> readRollout(Api& api, const std::string& ns, const std::string& name,
                              const std::string& hash, bool pods) {
  const std::string path = objectPath(ns, "service", name);
  LB_ASSIGN_OR_RETURN_STATUS(svc, api.getObject<types::Service>(path));
  LB_ASSIGN_OR_RETURN_STATUS(deps, api.getList<types::Deployment>(path + "/deployment"));
  Rollout r = rolloutFromStatus(svc, deps, hash);
  if (!pods && !r.done()) return r;
  std::map<std::string, std::vector<types::Pod>> listed;
  for (const auto& d : deps) {
    LB_ASSIGN_OR_RETURN_STATUS(
        list, api.getList<types::Pod>(path + "/deployment/" + http::percentEncode(d.meta.name) +
                                      "/pod"));
    listed[d.meta.name] = std::move(list);
  }
  return rolloutOf(svc, deps, listed, hash);
}

// apply --wait: reads the services' rollouts until all are done, printing
// each change of progress on stderr. Checks every 10 ms for the first 2 s
// (a small service is Ready in a few hundred ms), then every 100 ms; the
// pods themselves (for their messages) once a second.
// `services`: name -> the deployment hash apply answered ("" if none).
Status waitForServices(Context& c, Api& api,
                       const std::vector<std::pair<std::string, std::string>>& services) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(c.a.waitTimeout);
  auto podsRead = start;
  std::map<std::string, std::string> shown;
  auto pending = services;
  while (true) {
    const bool pods = Clock::now() - podsRead >= std::chrono::seconds(1);
    if (pods) podsRead = Clock::now();
    std::vector<std::pair<std::string, std::string>> still;
    std::string notDone;
    for (const auto& [name, hash] : pending) {
      auto r = readRollout(api, c.a.name, name, hash, pods);
      std::string line;
      if (r.isOk() && r->done()) {
        if (c.table()) {
          char took[32];
          std::snprintf(took, sizeof took, "%.1f s",
                        std::chrono::duration<double>(Clock::now() - start).count());
          c.out << "Service `" << name << "` is ready: " << r->ready << " of " << r->want
                << " pods (" << took << ")\n";
        }
        continue;
      }
      if (r.isOk()) {
        line = describe(*r);
      } else {
        // The cluster out of reach for a moment (a restart): go on trying
        // until the timeout; any other error ends the wait.
        const Code code = r.status().code();
        if (code != Code::kUnavailable && code != Code::kDeadlineExceeded)
          return r.status().withContext("waiting for service '" + name + "'");
        line = name + ": " + r.status().message();
      }
      if (shown[name] != line) {
        c.err << "waiting: " << line << "\n";
        shown[name] = line;
      }
      still.emplace_back(name, hash);
      notDone += (notDone.empty() ? "" : "; ") + line;
    }
    if (still.empty()) return Status::ok();
    if (Clock::now() >= deadline) {
      return Status(Code::kDeadlineExceeded, "not ready after " + std::to_string(c.a.waitTimeout) +
                                                 " s (--wait-timeout): " + notDone);
    }
    pending = std::move(still);
    auto step = Clock::now() - start < std::chrono::seconds(2) ? std::chrono::milliseconds(10)
                                                                 : std::chrono::milliseconds(100);
    std::this_thread::sleep_for(step);
  }
}

Status namespaceApply(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  std::vector<std::pair<std::string, std::string>> services;  // name, deployment hash
  for (const auto& file : c.a.files) {
    LB_ASSIGN_OR_RETURN_STATUS(text, readFile(file));
    LB_ASSIGN_OR_RETURN_STATUS(body, manifestBody(file, text));
    LB_ASSIGN_OR_RETURN_STATUS(
        answer, api->call("PUT", namespacePath(c.a.name) + "/apply", body, "application/yaml"));
    nlohmann::json doc = nlohmann::json::parse(answer, nullptr, false);
    if (!c.table()) c.out << (c.output == "json" ? doc.dump(2) + "\n" : answer);
    if (!c.table() && !c.a.wait) continue;
    if (doc.is_discarded() || !doc.contains("items") || !doc["items"].is_array())
      return internalError("unexpected answer to apply: " + answer.substr(0, 200));
    std::set<std::string> inThisFile;
    bool refsChanged = false;
    for (const auto& item : doc["items"]) {
      const std::string kind = item.value("kind", ""), name = item.value("name", "");
      const std::string action = item.value("action", "");
      if (c.table()) c.out << actionLine(kind, name, action);
      refsChanged |= (kind == "Secret" || kind == "Config") && action != "unchanged";
      if (kind != "Service" || action == "removed") continue;
      inThisFile.insert(name);
      auto have = std::find_if(services.begin(), services.end(),
                               [&](const auto& s) { return s.first == name; });
      const std::string hash = item.value("hash", "");
      if (have == services.end())
        services.emplace_back(name, hash);
      else
        have->second = hash;  // a later file applied it again
    }
    // A secret or config this file changed may change the deployment hash
    // of services an earlier file applied: theirs is stale, so those fall
    // back to comparing templates (see rollout.h).
    if (refsChanged)
      for (auto& [name, hash] : services)
        if (!inThisFile.count(name)) hash.clear();
  }
  if (!c.a.wait) return Status::ok();
  return waitForServices(c, *api, services);
}

// ---- service ------------------------------------------------------------------

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

// The one document of `kind` in a manifest file, named `name`.
StatusOr<types::Document> singleDocument(const std::string& file, Kind kind,
                                         const std::string& name) {
  LB_ASSIGN_OR_RETURN_STATUS(text, readFile(file));
  types::ParseOptions opts;
  opts.baseDir = fs::path(file).parent_path().string();
  if (opts.baseDir.empty()) opts.baseDir = ".";
  auto docs = types::parseManifests(text, opts);
  if (!docs.isOk())
    return Status(docs.status().code(), file + ": " + docs.status().message(),
                  docs.status().field());
  if (docs->size() != 1 || (*docs)[0].kind != kind)
    return invalidArgument(file + ": expected exactly one " + types::kindName(kind) + " document");
  types::Document doc = std::move((*docs)[0]);
  if (!name.empty() && doc.meta.name != name)
    return invalidArgument(file + ": the manifest names `" + doc.meta.name + "`, not `" + name +
                           "`");
  return doc;
}

Status serviceUpdate(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(doc, singleDocument(c.a.files.at(0), Kind::kService, c.a.name));
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

// ---- route --------------------------------------------------------------------

// "svc:port" or "/path=svc:port".
StatusOr<types::RouteRule> parseRule(const std::string& arg, const std::string& defaultPath) {
  types::RouteRule rule;
  std::string rest = arg;
  if (size_t eq = rest.find('='); eq != std::string::npos) {
    rule.path = rest.substr(0, eq);
    rest = rest.substr(eq + 1);
  } else {
    rule.path = defaultPath;
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return invalidArgument("invalid rule `" + arg + "`: expected SERVICE:PORT");
  rule.service = rest.substr(0, colon);
  std::string port = rest.substr(colon + 1);
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 1 || p > 65535)
    return invalidArgument("invalid rule `" + arg + "`: port must be 1-65535");
  rule.port = static_cast<int>(p);
  if (rule.path.empty()) rule.path = "/";
  return rule;
}

Status routeShow(Context& c, const std::string& answer) {
  LB_ASSIGN_OR_RETURN_STATUS(route, types::parseJson<types::Route>(answer));
  if (c.table())
    c.out << renderRoute(route);
  else
    c.print(route);
  return Status::ok();
}

Status routeSave(Context& c, bool update) {
  std::vector<types::RouteRule> rules;  // bad arguments fail before any I/O
  for (const auto& r : c.a.rules) {
    LB_ASSIGN_OR_RETURN_STATUS(rule, parseRule(r, c.a.path.empty() ? "/" : c.a.path));
    rules.push_back(rule);
  }
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  types::Document doc;
  doc.kind = Kind::kRoute;
  doc.meta.name = c.a.name;
  types::RouteSpec spec;
  if (update) {
    LB_ASSIGN_OR_RETURN_STATUS(current,
                               api->getObject<types::Route>(objectPath(c.a.ns, "route", c.a.name)));
    doc = types::toDocument(current);
    spec = std::get<types::RouteSpec>(doc.spec);
  }
  if (c.a.port) spec.port = c.a.port;
  if (!c.a.domain.empty()) spec.domain = c.a.domain;
  if (!rules.empty()) spec.rules = rules;
  if (spec.rules.empty()) return invalidArgument("a route needs at least one SERVICE:PORT rule");
  doc.spec = spec;
  std::string body = types::toManifestJson(doc);
  LB_ASSIGN_OR_RETURN_STATUS(answer,
                             update ? api->call("PUT", objectPath(c.a.ns, "route", c.a.name), body)
                                    : api->call("POST", collectionPath(c.a.ns, "route"), body));
  return routeShow(c, answer);
}

// ---- secrets and configs ----------------------------------------------------

// -a/-u/-p, -t k=v or -f FILE: exactly one mode, giving the type and data.
StatusOr<types::DataManifestSpec> dataFromArgs(const Args& a, bool allowAuth) {
  int modes = (a.auth ? 1 : 0) + (a.texts.empty() ? 0 : 1) + (a.files.empty() ? 0 : 1);
  if (modes != 1)
    return invalidArgument(allowAuth ? "give exactly one of -a (with -u/-p), -t KEY=VALUE, -f FILE"
                                     : "give exactly one of -t KEY=VALUE, -f FILE");
  types::DataManifestSpec spec;
  auto item = [](std::string k, std::string v) {
    types::DataItem d;
    d.key = std::move(k);
    d.value = std::move(v);
    return d;
  };
  if (a.auth) {
    if (a.user.empty()) return invalidArgument("-a needs -u USERNAME");
    spec.type = types::kSecretAuth;
    spec.data = {item("username", a.user), item("password", a.pass)};
  } else if (!a.texts.empty()) {
    LB_ASSIGN_OR_RETURN_STATUS(kvs, parseKeyValues(a.texts));
    spec.type = types::kSecretText;
    for (auto& [k, v] : kvs) spec.data.push_back(item(k, v));
  } else {
    spec.type = types::kSecretFile;
    for (const auto& f : a.files) {
      std::string key = fs::path(f).filename().string();
      for (const auto& d : spec.data)
        if (d.key == key) return invalidArgument("two files named `" + key + "`");
      LB_ASSIGN_OR_RETURN_STATUS(content, readFile(f));
      spec.data.push_back(item(key, content));
    }
  }
  return spec;
}

// Secrets and configs share their verbs; `T` is types::Secret or types::Config.
template <typename T>
struct DataKind;
template <>
struct DataKind<types::Secret> {
  static constexpr Kind kind = Kind::kSecret;
  static constexpr const char* name = "Secret";
  static constexpr const char* collection = "secret";
  static constexpr bool auth = true;
};
template <>
struct DataKind<types::Config> {
  static constexpr Kind kind = Kind::kConfig;
  static constexpr const char* name = "Config";
  static constexpr const char* collection = "config";
  static constexpr bool auth = false;
};

types::Secret forOutput(const types::Secret& s) { return redact(s); }
const types::Config& forOutput(const types::Config& c) { return c; }
std::string renderOne(const types::Secret& s, TimePoint now) { return renderSecret(s, now); }
std::string renderOne(const types::Config& c, TimePoint now) { return renderConfig(c, now); }
std::string renderMany(const std::vector<types::Secret>& l) { return renderSecretList(l); }
std::string renderMany(const std::vector<types::Config>& l) { return renderConfigList(l); }

template <typename T>
Status dataSave(Context& c, bool update) {
  using K = DataKind<T>;
  LB_ASSIGN_OR_RETURN_STATUS(spec,
                             dataFromArgs(c.a, K::auth));  // bad arguments fail before any I/O
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  std::string path = objectPath(c.a.ns, K::collection, c.a.name);
  if (update) {
    LB_ASSIGN_OR_RETURN_STATUS(current, api->getObject<T>(path));
    if (current.spec.type != spec.type)
      return invalidArgument(std::string(K::collection) + " `" + c.a.name + "` is of type " +
                             current.spec.type + "; its type cannot change to " + spec.type);
  }
  types::Document doc;
  doc.kind = K::kind;
  doc.meta.name = c.a.name;
  doc.spec = spec;
  std::string body = types::toManifestJson(doc);
  LB_ASSIGN_OR_RETURN_STATUS(
      answer, update ? api->call("PUT", path, body)
                     : api->call("POST", collectionPath(c.a.ns, K::collection), body));
  if (!c.table()) {
    LB_ASSIGN_OR_RETURN_STATUS(obj, types::parseJson<T>(answer));
    c.print(forOutput(obj));
    return Status::ok();
  }
  c.out << actionLine(K::name, c.a.name, update ? "updated" : "created");
  return Status::ok();
}

template <typename T>
Status dataList(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(list,
                             api->getList<T>(collectionPath(c.a.ns, DataKind<T>::collection)));
  if (c.table()) {
    c.out << renderMany(list);
    return Status::ok();
  }
  std::vector<T> shown;
  for (const auto& item : list) shown.push_back(forOutput(item));
  c.printList(shown);
  return Status::ok();
}

template <typename T>
Status dataInspect(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(
      obj, api->getObject<T>(objectPath(c.a.ns, DataKind<T>::collection, c.a.name)));
  if (c.table())
    c.out << renderOne(obj, c.now());
  else
    c.print(forOutput(obj));
  return Status::ok();
}

// ---- generic reads ------------------------------------------------------------

template <typename T, typename Render>
Status showList(Context& c, const std::string& path, Render render) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(list, api->getList<T>(path));
  if (c.table())
    c.out << render(list);
  else
    c.printList(list);
  return Status::ok();
}

template <typename T, typename Render>
Status showObject(Context& c, const std::string& path, Render render) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(obj, api->getObject<T>(path));
  if (c.table())
    c.out << render(obj);
  else
    c.print(obj);
  return Status::ok();
}

Status volumeCreate(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  for (const auto& file : c.a.files) {
    LB_ASSIGN_OR_RETURN_STATUS(doc, singleDocument(file, Kind::kVolume, c.a.name));
    LB_ASSIGN_OR_RETURN_STATUS(
        answer, api->call("POST", collectionPath(c.a.ns, "volume"), types::toManifestJson(doc)));
    (void)answer;
    c.out << actionLine("Volume", doc.meta.name, "created");
  }
  return Status::ok();
}

// ---- cluster endpoints ----------------------------------------------------------

Status clusterAdd(Context& c) {
  ClusterEntry e;
  e.name = c.a.name;
  bool tls = c.flags.tls || !c.flags.caFile.empty() || !c.flags.certFile.empty();
  e.endpoint = normalizeUrl(c.a.url, tls);
  e.token = c.flags.token;
  auto absolute = [](const std::string& p) {
    return p.empty() ? p : fs::absolute(p).lexically_normal().string();
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
  Args& a = c.a;
  std::function<Status()> action;
  std::vector<CLI::Option*> descOptions;  // --desc given (even empty) replaces the description

  CLI::App app{"lb: command line client of a Last.Backend cluster", "lb"};
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

  auto verb = [&](CLI::App* parent, const std::string& name, const std::string& help,
                  std::function<Status()> fn) {
    CLI::App* sub = parent->add_subcommand(name, help);
    sub->callback([&action, fn] { action = fn; });
    return sub;
  };
  auto group = [&](const std::string& name, const std::string& help) {
    CLI::App* g = app.add_subcommand(name, help);
    g->require_subcommand(1);
    return g;
  };
  auto nsArg = [&](CLI::App* s) { s->add_option("NAMESPACE", a.ns, "Namespace name")->required(); };
  auto nameArg = [&](CLI::App* s, const char* what) {
    s->add_option("NAME", a.name, std::string(what) + " name")->required();
  };

  // namespace
  CLI::App* ns = group("namespace", "Manage namespaces");
  verb(ns, "ls", "List namespaces", [&] { return namespaceList(c); });
  {
    auto* s = verb(ns, "create", "Create a namespace", [&] { return namespaceCreate(c); });
    nameArg(s, "Namespace");
    descOptions.push_back(s->add_option("--desc", a.desc, "Description"));
  }
  nameArg(verb(ns, "inspect", "Show a namespace", [&] { return namespaceInspect(c); }),
          "Namespace");
  {
    auto* s = verb(ns, "update", "Change a namespace's description or labels",
                   [&] { return namespaceUpdate(c); });
    nameArg(s, "Namespace");
    descOptions.push_back(s->add_option("--desc", a.desc, "New description"));
    s->add_option("-l,--label", a.labels, "Set a label KEY=VALUE (repeatable)")
        ->allow_extra_args(false);
  }
  nameArg(verb(ns, "remove", "Remove a namespace and everything in it",
               [&] { return removeObject(c, namespacePath(a.name), "Namespace", a.name); }),
          "Namespace");
  {
    auto* s = verb(ns, "apply", "Create or update the objects of manifest files in a namespace",
                   [&] { return namespaceApply(c); });
    nameArg(s, "Namespace");
    s->add_option("-f,--file", a.files,
                  "Manifest file (YAML, several documents allowed; repeatable)")
        ->required()
        ->allow_extra_args(false)
        ->check(CLI::ExistingFile);
    s->add_flag("-w,--wait", a.wait,
                "Wait until every service in the files is rolled out: the pods of its current "
                "spec all Ready, old pods gone (progress on stderr)");
    s->add_option("--wait-timeout", a.waitTimeout,
                  "Seconds --wait waits before it fails, naming what is not ready")
        ->default_val(300)
        ->check(CLI::PositiveNumber);
  }

  // service
  CLI::App* svc = group("service", "Manage services");
  nsArg(verb(svc, "ls", "List the services of a namespace", [&] { return serviceList(c); }));
  {
    auto* s = verb(svc, "inspect", "Show a service with its active deployments and pods",
                   [&] { return serviceInspect(c); });
    nsArg(s);
    nameArg(s, "Service");
  }
  {
    auto* s =
        verb(svc, "update", "Update a service from a manifest", [&] { return serviceUpdate(c); });
    nsArg(s);
    nameArg(s, "Service");
    s->add_option("-f,--file", a.files, "Service manifest file")
        ->required()
        ->expected(1)
        ->check(CLI::ExistingFile);
  }
  {
    auto* s = verb(svc, "remove", "Remove a service", [&] {
      return removeObject(c, objectPath(a.ns, "service", a.name), "Service", a.name);
    });
    nsArg(s);
    nameArg(s, "Service");
  }
  {
    auto* s = verb(svc, "logs", "Print a service's logs", [&] { return serviceLogs(c); });
    nsArg(s);
    nameArg(s, "Service");
    s->add_flag("-f,--follow", a.follow, "Keep printing new lines");
    s->add_option("--tail", a.tail, "Only the last N lines")->check(CLI::NonNegativeNumber);
  }

  // route
  CLI::App* route = group("route", "Manage routes (external traffic to services)");
  nsArg(verb(route, "ls", "List the routes of a namespace", [&] {
    return showList<types::Route>(c, collectionPath(a.ns, "route"), renderRouteList);
  }));
  {
    auto* s = verb(route, "inspect", "Show a route and its rules", [&] {
      return showObject<types::Route>(c, objectPath(a.ns, "route", a.name), renderRoute);
    });
    nsArg(s);
    nameArg(s, "Route");
  }
  for (bool update : {false, true}) {
    auto* s =
        verb(route, update ? "update" : "create",
             update ? "Change a route (given parts replace the current ones)" : "Create a route",
             [&, update] { return routeSave(c, update); });
    nsArg(s);
    nameArg(s, "Route");
    auto* p = s->add_option("-p,--port", a.port, "Port the route listens on (e.g. 80, 443)")
                  ->check(CLI::Range(1, 65535));
    auto* r = s->add_option("RULE", a.rules, "SERVICE:PORT or PATH=SERVICE:PORT (repeatable)");
    if (!update) {
      p->required();
      r->required();
    }
    s->add_option("--domain", a.domain, "Domain (default: chosen by the cluster)");
    s->add_option("--path", a.path, "Path of rules given without one (default /)");
  }
  {
    auto* s = verb(route, "remove", "Remove a route", [&] {
      return removeObject(c, objectPath(a.ns, "route", a.name), "Route", a.name);
    });
    nsArg(s);
    nameArg(s, "Route");
  }

  // secret and config
  auto dataGroup = [&](auto tag, const std::string& noun, const std::string& help) {
    using T = decltype(tag);
    constexpr bool auth = DataKind<T>::auth;
    CLI::App* g = group(noun, help);
    for (bool update : {false, true}) {
      auto* s =
          verb(g, update ? "update" : "create",
               update ? "Replace the data of a " + noun + " (its type stays)" : "Create a " + noun,
               [&, update] { return dataSave<T>(c, update); });
      nsArg(s);
      nameArg(s, noun == "secret" ? "Secret" : "Config");
      if (auth) {
        s->add_flag("-a,--auth", a.auth, "Auth type: a username and a password");
        s->add_option("-u,--username", a.user, "Username (with -a)");
        s->add_option("-p,--password", a.pass, "Password (with -a)");
      }
      s->add_option("-t,--text", a.texts, "Text type: KEY=VALUE (repeatable)")
          ->allow_extra_args(false);
      s->add_option("-f,--file", a.files,
                    "File type: a file, stored under its base name (repeatable)")
          ->allow_extra_args(false)
          ->check(CLI::ExistingFile);
    }
    nsArg(verb(g, "ls", "List the " + noun + "s of a namespace" + (auth ? " (keys only)" : ""),
               [&] { return dataList<T>(c); }));
    auto* s = verb(g, "inspect", "Show a " + noun + (auth ? " (its keys, never its values)" : ""),
                   [&] { return dataInspect<T>(c); });
    nsArg(s);
    nameArg(s, noun == "secret" ? "Secret" : "Config");
    auto* r = verb(g, "remove", "Remove a " + noun, [&, noun] {
      return removeObject(c, objectPath(a.ns, noun, a.name), DataKind<T>::name, a.name);
    });
    nsArg(r);
    nameArg(r, noun == "secret" ? "Secret" : "Config");
  };
  dataGroup(types::Secret{}, "secret", "Manage secrets (auth, text, file)");
  dataGroup(types::Config{}, "config", "Manage configs (text, file)");

  // volume
  CLI::App* vol = group("volume", "Manage volumes");
  nsArg(verb(vol, "ls", "List the volumes of a namespace", [&] {
    return showList<types::Volume>(c, collectionPath(a.ns, "volume"), renderVolumeList);
  }));
  {
    auto* s = verb(vol, "inspect", "Show a volume", [&] {
      return showObject<types::Volume>(c, objectPath(a.ns, "volume", a.name),
                                       [&](const auto& v) { return renderVolume(v, c.now()); });
    });
    nsArg(s);
    nameArg(s, "Volume");
  }
  {
    auto* s = verb(vol, "create", "Create volumes from Volume manifests",
                   [&] { return volumeCreate(c); });
    nsArg(s);
    s->add_option("-f,--file", a.files, "Volume manifest file (repeatable)")
        ->required()
        ->allow_extra_args(false)
        ->check(CLI::ExistingFile);
  }
  {
    auto* s = verb(vol, "remove", "Remove a volume", [&] {
      return removeObject(c, objectPath(a.ns, "volume", a.name), "Volume", a.name);
    });
    nsArg(s);
    nameArg(s, "Volume");
  }

  // node
  CLI::App* node = group("node", "Show cluster nodes");
  verb(node, "ls", "List nodes", [&] {
    return showList<types::Node>(c, "/cluster/node",
                                 [&](const auto& l) { return renderNodeList(l, c.now()); });
  });
  nameArg(verb(node, "inspect", "Show a node",
               [&] {
                 return showObject<types::Node>(
                     c, "/cluster/node/" + http::percentEncode(a.name),
                     [&](const auto& n) { return renderNode(n, c.now()); });
               }),
          "Node");

  // cluster
  CLI::App* cl = group("cluster", "Show the cluster; manage the clusters lb knows");
  verb(cl, "inspect", "Show the current cluster",
       [&] { return showObject<types::Cluster>(c, "/cluster", renderCluster); });
  {
    auto* s = verb(cl, "add",
                   "Remember a cluster: NAME URL, with the global --token, --tls, --tlscacert, "
                   "--tlscert, --tlskey (the first one added is selected)",
                   [&] { return clusterAdd(c); });
    nameArg(s, "Cluster");
    s->add_option("URL", a.url, "REST API URL, e.g. http://127.0.0.1:2967")->required();
  }
  nameArg(verb(cl, "select", "Make a stored cluster the default",
               [&] {
                 LB_RETURN_IF_ERROR(c.store().select(a.name));
                 c.out << "Cluster `" << a.name << "` is selected\n";
                 return Status::ok();
               }),
          "Cluster");
  verb(cl, "ls", "List stored clusters (* marks the selected one)", [&] { return clusterList(c); });
  nameArg(verb(cl, "del", "Forget a stored cluster",
               [&] {
                 LB_RETURN_IF_ERROR(c.store().remove(a.name));
                 c.out << "Cluster `" << a.name << "` is removed\n";
                 return Status::ok();
               }),
          "Cluster");

  try {
    app.parse(argc, argv);
    for (auto* o : descOptions) a.descSet = a.descSet || o->count() > 0;
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  if (!action) return 1;
  Status s = action();
  if (!s.isOk()) {
    out.flush();
    err << errorLine(s);
    return 1;
  }
  return 0;
}

}  // namespace lb::cli
