// `lb namespace diff NS -f FILE...`: the objects stored in the cluster
// against the manifest files, as a unified diff, from the cluster's own dry
// run of the apply (so defaults, validation and the stored form are the
// cluster's). Exit status as diff(1) and kubectl diff: 0 when nothing
// would change, 1 when something would, 2 on an error. Secret values are
// never shown (the cluster masks them, marking the ones that differ).

#include "cli/commands.h"
#include "cli/unified_diff.h"

namespace lb::cli {
namespace {

Status namespaceDiff(Context& c) {
  c.errorExitCode = 2;
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  bool differs = false;
  for (const auto& file : c.a.files) {
    LB_ASSIGN_OR_RETURN_STATUS(doc, applyFile(*api, c.a.name, file, /*dryRun=*/true));
    for (const auto& item : doc["items"]) {
      const std::string object =
          c.a.name + "/" + item.value("kind", "") + "/" + item.value("name", "");
      const bool stored = item.contains("before");
      const std::string text =
          unifiedDiff(item.value("before", ""), item.value("after", ""),
                      stored ? object + " (stored)" : "/dev/null", object + " (" + file + ")");
      if (text.empty() && stored) continue;
      differs = true;
      // A created object with an empty manifest still shows its header.
      c.out << (text.empty() ? "--- /dev/null\n+++ " + object + " (" + file + ")\n" : text);
    }
  }
  c.exitCode = differs ? 1 : 0;
  return Status::ok();
}

}  // namespace

void addDiffVerb(Commands& cmds, CLI::App* ns) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  auto* s = cmds.verb(ns, "diff",
                      "Show what applying manifest files would change, as a unified diff of the "
                      "stored objects against them (exit 0: no change, 1: changes, 2: error)",
                      [&] { return namespaceDiff(c); });
  cmds.nameArg(s, "Namespace");
  addManifestFilesOption(s, a);
}

}  // namespace lb::cli
