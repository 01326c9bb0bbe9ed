#pragma once

// Private to the `lb` command line: secrets and configs have the same verbs
// (create/update from -a/-t/-f, ls, inspect, remove) over their own
// collection; secret.cc and config.cc add them through addDataCommands<T>.
// Secret values are never printed: tables show keys, -o json|yaml blanks them.

#include <string>

#include "cli/commands.h"

namespace lb::cli {

// -a/-u/-p, -t k=v or -f FILE: exactly one mode, giving the type and data.
StatusOr<types::DataManifestSpec> dataFromArgs(const Args& a, bool allowAuth);

// Per kind (types::Secret or types::Config), specialized in its file:
//   kind, name ("Secret"), collection ("secret"), auth (-a applies);
//   render(obj, now), renderList(list), forOutput(obj) (what -o prints).
template <typename T>
struct DataKind;

template <typename T>
Status dataSave(Context& c, bool update) {
  using K = DataKind<T>;
  LB_ASSIGN_OR_RETURN_STATUS(spec,
                             dataFromArgs(c.a, K::kAuth));  // bad arguments fail before any I/O
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  std::string path = objectPath(c.a.ns, K::kCollection, c.a.name);
  if (update) {
    LB_ASSIGN_OR_RETURN_STATUS(current, api->getObject<T>(path));
    if (current.spec.type != spec.type)
      return invalidArgument(std::string(K::kCollection) + " `" + c.a.name + "` is of type " +
                             current.spec.type + "; its type cannot change to " + spec.type);
  }
  types::Document doc;
  doc.kind = K::kKind;
  doc.meta.name = c.a.name;
  doc.spec = spec;
  std::string body = types::toManifestJson(doc);
  LB_ASSIGN_OR_RETURN_STATUS(
      answer, update ? api->call("PUT", path, body)
                     : api->call("POST", collectionPath(c.a.ns, K::kCollection), body));
  if (!c.table()) {
    LB_ASSIGN_OR_RETURN_STATUS(obj, types::parseJson<T>(answer));
    c.print(DataKind<T>::forOutput(obj));
    return Status::ok();
  }
  c.out << actionLine(K::kName, c.a.name, update ? "updated" : "created");
  return Status::ok();
}

template <typename T>
Status dataList(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(list,
                             api->getList<T>(collectionPath(c.a.ns, DataKind<T>::kCollection)));
  if (c.table()) {
    c.out << DataKind<T>::renderList(list);
    return Status::ok();
  }
  std::vector<T> shown;
  shown.reserve(list.size());
  for (const auto& item : list) shown.push_back(DataKind<T>::forOutput(item));
  c.printList(shown);
  return Status::ok();
}

template <typename T>
Status dataInspect(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  LB_ASSIGN_OR_RETURN_STATUS(
      obj, api->getObject<T>(objectPath(c.a.ns, DataKind<T>::kCollection, c.a.name)));
  if (c.table())
    c.out << DataKind<T>::render(obj, c.now());
  else
    c.print(DataKind<T>::forOutput(obj));
  return Status::ok();
}

template <typename T>
void addDataCommands(Commands& cmds, const std::string& help) {
  using K = DataKind<T>;
  Context& c = cmds.c;
  Args& a = cmds.a;
  const std::string noun = K::kCollection;
  CLI::App* g = cmds.group(noun, help);
  for (bool update : {false, true}) {
    auto* s = cmds.objectVerb(
        g, update ? "update" : "create",
        update ? "Replace the data of a " + noun + " (its type stays)" : "Create a " + noun,
        K::kName, [&c, update] { return dataSave<T>(c, update); });
    if (K::kAuth) {
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
  cmds.nsVerb(g, "ls", "List the " + noun + "s of a namespace" + (K::kAuth ? " (keys only)" : ""),
              [&c] { return dataList<T>(c); });
  cmds.objectVerb(g, "inspect", "Show a " + noun + (K::kAuth ? " (its keys, never its values)" : ""),
                  K::kName, [&c] { return dataInspect<T>(c); });
  cmds.removeVerb(g, noun, K::kName);
}

}  // namespace lb::cli
