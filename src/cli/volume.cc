// `lb volume ...`: ls, inspect, create (from Volume manifests), remove.

#include "cli/commands.h"

namespace lb::cli {
namespace {

Status volumeCreate(Context& c) {
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  for (const auto& file : c.a.files) {
    LB_ASSIGN_OR_RETURN_STATUS(doc, singleDocument(file, types::Kind::kVolume, c.a.name));
    LB_ASSIGN_OR_RETURN_STATUS(
        answer, api->call("POST", collectionPath(c.a.ns, "volume"), types::toManifestJson(doc)));
    (void)answer;
    c.out << actionLine("Volume", doc.meta.name, "created");
  }
  return Status::ok();
}

}  // namespace

void addVolumeCommands(Commands& cmds) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  CLI::App* vol = cmds.group("volume", "Manage volumes");
  cmds.nsArg(cmds.verb(vol, "ls", "List the volumes of a namespace", [&] {
    return showList<types::Volume>(c, collectionPath(a.ns, "volume"), renderVolumeList);
  }));
  {
    auto* s = cmds.verb(vol, "inspect", "Show a volume", [&] {
      return showObject<types::Volume>(c, objectPath(a.ns, "volume", a.name),
                                       [&](const auto& v) { return renderVolume(v, c.now()); });
    });
    cmds.nsArg(s);
    cmds.nameArg(s, "Volume");
  }
  {
    auto* s = cmds.verb(vol, "create", "Create volumes from Volume manifests",
                        [&] { return volumeCreate(c); });
    cmds.nsArg(s);
    s->add_option("-f,--file", a.files, "Volume manifest file (repeatable)")
        ->required()
        ->allow_extra_args(false)
        ->check(CLI::ExistingFile);
  }
  {
    auto* s = cmds.verb(vol, "remove", "Remove a volume", [&] {
      return removeObject(c, objectPath(a.ns, "volume", a.name), "Volume", a.name);
    });
    cmds.nsArg(s);
    cmds.nameArg(s, "Volume");
  }
}

}  // namespace lb::cli
