#pragma once

// Private to the `lb` command line: what every verb works with. One verb
// runs per process: it reads its arguments from one Args, talks to the
// cluster through the Context's Api (connected on first use, so local verbs
// never need a cluster) and prints through the Context's streams.

#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/api.h"
#include "cli/app.h"
#include "cli/cluster_store.h"
#include "cli/endpoint.h"
#include "cli/render.h"
#include "lastbackend/common/status.h"
#include "lastbackend/types/codec.h"
#include "lastbackend/types/manifest.h"

namespace lb::cli {

// Everything the verbs read from the command line; one verb runs per process,
// so they share one bag of arguments.
struct Args {
  std::string ns, name, url, desc;
  bool descSet = false;
  std::vector<std::string> files, texts, labels, rules;
  bool auth = false;
  std::string user, pass, domain, path;
  std::string tlsSecret;  // lb route create/update --tls-secret
  bool tlsRedirect = false;
  int port = 0;
  bool follow = false;
  int tail = -1;
  bool wait = false;
  bool noWait = false;    // `lb node drain`, which waits unless told not to
  int waitTimeout = 300;  // seconds
  bool dryRun = false;
  std::string deployment;  // `lb service rollback`'s target
  // `lb service exec`: the pod, container, flags and the words after "--".
  std::string pod, container;
  bool interactive = false, tty = false;
  std::vector<std::string> command;
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

  // The cluster the endpoint rules choose (endpoint.h), connected once.
  StatusOr<Api*> api();

  bool table() const { return output.empty(); }

  // The process's exit status when the verb succeeds, and when it fails
  // (`lb namespace diff`: 0 equal, 1 different, 2 an error).
  int exitCode = 0;
  int errorExitCode = 1;

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

// `lhs` names a variable: it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define LB_ASSIGN_OR_RETURN_STATUS(lhs, expr)     \
  auto lhs##_or = (expr);                         \
  if (!lhs##_or.isOk()) return lhs##_or.status(); \
  auto& lhs = *lhs##_or;
// NOLINTEND(bugprone-macro-parentheses)

StatusOr<std::string> readFile(const std::string& path);

// All documents of manifest file `path` (its text given), `file:` items read
// relative to the file; errors name the file.
StatusOr<std::vector<types::Document>> parseManifestFile(const std::string& path,
                                                         const std::string& text);

// The one document of `kind` in a manifest file, named `name` (any name when
// `name` is empty).
StatusOr<types::Document> singleDocument(const std::string& file, types::Kind kind,
                                         const std::string& name);

// DELETE `path`, then "<Kind> `name` is removed".
Status removeObject(Context& c, const std::string& path, std::string_view kind,
                    const std::string& name);

// GET a list (or one object) and print it as a table through `render`, or
// as JSON/YAML with -o.
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

}  // namespace lb::cli
