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
  cmds.listVerb<types::Volume>(vol, "volume", "List the volumes of a namespace", renderVolumeList);
  cmds.inspectVerb<types::Volume>(vol, "volume", "Show a volume", "Volume",
                                  [&c](const auto& v) { return renderVolume(v, c.now()); });
  cmds.nsVerb(vol, "create", "Create volumes from Volume manifests",
              [&] { return volumeCreate(c); })
      ->add_option("-f,--file", a.files, "Volume manifest file (repeatable)")
      ->required()
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
  cmds.removeVerb(vol, "volume", "Volume");
}

}  // namespace lb::cli
