// `lb namespace apply -f FILE... [--wait | --dry-run]`: manifests sent to
// the cluster's apply, and with --wait the rollouts of the services they
// name followed until done (rollout.h). --dry-run asks the cluster what the
// apply would do and changes nothing; `lb namespace diff` (diff.cc) shows it
// as a unified diff.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "cli/rollout.h"

namespace lb::cli {
namespace {

// Manifests reference `file:` items relative to themselves, which the server
// cannot read: such files are parsed here and sent with the files inlined.
// Anything else goes to the server as the user wrote it.
StatusOr<std::string> manifestBody(const std::string& path, const std::string& text) {
  LB_ASSIGN_OR_RETURN_STATUS(docs, parseManifestFile(path, text));
  if (text.find("file:") == std::string::npos) return text;
  std::string body;
  for (const auto& d : docs) body += "---\n" + types::toManifestYaml(d);
  return body;
}

// What the cluster would do with an item of a dry run, as a line.
std::string planLine(const nlohmann::json& item) {
  const std::string kind = item.value("kind", ""), name = item.value("name", "");
  const std::string action = item.value("action", "");
  std::string line = kind + " `" + name + "` ";
  line += action == "unchanged" ? "is unchanged" : "would be " + action;
  if (item.contains("rolls") && item["rolls"].is_boolean())
    line += item["rolls"].get<bool>() ? " (a new deployment rolls out)"
                                      : (action == "unchanged" ? "" : " (no new deployment)");
  return line + "\n";
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
    if (!isActiveDeployment(d)) continue;  // kept as history: no pods
    LB_ASSIGN_OR_RETURN_STATUS(
        list,
        api.getList<types::Pod>(path + "/deployment/" + http::percentEncode(d.meta.name) + "/pod"));
    listed[d.meta.name] = std::move(list);
  }
  return rolloutOf(svc, deps, listed, hash);
}

}  // namespace

// Checks every 10 ms for the first 2 s (a small service is Ready in a few
// hundred ms), then every 100 ms; the pods themselves (for their messages)
// once a second.
Status waitForServices(Context& c, Api& api, const std::string& ns,
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
      auto r = readRollout(api, ns, name, hash, pods);
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

namespace {

Status namespaceApply(Context& c) {
  if (c.a.dryRun && c.a.wait) return invalidArgument("--dry-run and --wait exclude each other");
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  std::vector<std::pair<std::string, std::string>> services;  // name, deployment hash
  for (const auto& file : c.a.files) {
    std::string answer;
    LB_ASSIGN_OR_RETURN_STATUS(doc, applyFile(*api, c.a.name, file, c.a.dryRun, &answer));
    if (!c.table()) c.out << (c.output == "json" ? doc.dump(2) + "\n" : answer);
    if (c.a.dryRun) {
      if (c.table())
        for (const auto& item : doc["items"]) c.out << planLine(item);
      continue;
    }
    if (!c.table() && !c.a.wait) continue;
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
  return waitForServices(c, *api, c.a.name, services);
}

}  // namespace

StatusOr<nlohmann::json> applyFile(Api& api, const std::string& ns, const std::string& file,
                                   bool dryRun, std::string* raw) {
  LB_ASSIGN_OR_RETURN_STATUS(text, readFile(file));
  LB_ASSIGN_OR_RETURN_STATUS(body, manifestBody(file, text));
  LB_ASSIGN_OR_RETURN_STATUS(
      answer, api.call("PUT", namespacePath(ns) + "/apply" + (dryRun ? "?dry-run=true" : ""), body,
                       "application/yaml"));
  nlohmann::json doc = nlohmann::json::parse(answer, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("items") || !doc["items"].is_array())
    return internalError("unexpected answer to apply: " + answer.substr(0, 200));
  for (const auto& item : doc["items"])
    if (!item.is_object()) return internalError("unexpected item in the answer to apply");
  if (raw) *raw = std::move(answer);
  return doc;
}

void addManifestFilesOption(CLI::App* verb, Args& a) {
  verb->add_option("-f,--file", a.files,
                   "Manifest file (YAML, several documents allowed; repeatable)")
      ->required()
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
}

void addWaitFlags(CLI::App* verb, Args& a, const std::string& what) {
  verb->add_flag("-w,--wait", a.wait,
                 "Wait until " + what +
                     " is rolled out: the pods of its current spec all Ready, old pods gone "
                     "(progress on stderr)");
  verb->add_option("--wait-timeout", a.waitTimeout,
                   "Seconds --wait waits before it fails, naming what is not ready")
      ->default_val(300)
      ->check(CLI::PositiveNumber);
}

void addApplyVerb(Commands& cmds, CLI::App* ns) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  auto* s = cmds.verb(ns, "apply", "Create or update the objects of manifest files in a namespace",
                      [&] { return namespaceApply(c); });
  cmds.nameArg(s, "Namespace");
  addManifestFilesOption(s, a);
  addWaitFlags(s, a, "every service in the files");
  s->add_flag("--dry-run", a.dryRun,
              "Print what the apply would do per object (created, updated, unchanged; for a "
              "service whether a new deployment rolls out) and change nothing");
}

}  // namespace lb::cli
