#include "manifest_check.h"

#include <cstdio>
#include <string_view>

#include "lastbackend/types/manifest.h"

namespace lb::types::fuzz {

namespace {

bool fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "property violated: %s\n%s\n", what, detail.c_str());
  return false;
}

bool roundTrip(const Document& doc) {
  for (bool json : {false, true}) {
    std::string text = json ? toManifestJson(doc) : toManifestYaml(doc);
    auto again = parseManifests(text, ParseOptions{"/nonexistent"});
    if (!again.isOk())
      return fail("re-parse of emitted manifest failed", again.status().toString() + "\n" + text);
    if (again->size() != 1 || !((*again)[0] == doc))
      return fail("round trip changed the document", text);
  }
  return true;
}

}  // namespace

bool checkManifestInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A base dir that does not exist: `file:` items must fail cleanly, and the
  // fuzzer never reads the machine's files.
  auto docs = parseManifests(text, ParseOptions{"/nonexistent"});
  if (!docs.isOk()) {
    if (docs.status().isOk()) return fail("error without status", "");
    return true;
  }
  for (const auto& doc : *docs) {
    if (!roundTrip(doc)) return false;
    if (doc.kind == Kind::kService) {
      Service svc;
      if (!fromDocument(doc, "demo", &svc).isOk()) return fail("service conversion failed", "");
      Service back;
      if (!fromJson(toJson(svc), &back).isOk() || !(back == svc))
        return fail("service JSON round trip", toJson(svc));
      if (!fromYaml(toYaml(svc), &back).isOk() || !(back == svc))
        return fail("service YAML round trip", toYaml(svc));
    }
  }
  return true;
}

}  // namespace lb::types::fuzz
