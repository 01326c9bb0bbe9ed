#include "controller/pod_json.h"

#include "types/fields.h"

namespace lb::controller {

namespace d = types::detail;

std::string PodJson::encode(const types::Pod& pod) {
  // Encodings of a default Pod's parts: a part equal to its default is
  // omitted, as the generic encoder does.
  static const d::Json kDefault = d::encodeAllFields(types::Pod{}, d::Mode::kObject);
  constexpr size_t kMaxOwners = 4096;  // deployments come and go: bounded, dropped at once

  const std::string& sl = pod.meta.selflink;
  std::string owner = sl.substr(0, sl.rfind(':'));
  auto it = bySpecOwner_.find(owner);
  if (it == bySpecOwner_.end() || !(it->second.spec == pod.spec)) {
    if (it == bySpecOwner_.end()) {
      if (bySpecOwner_.size() >= kMaxOwners) bySpecOwner_.clear();
      it = bySpecOwner_.emplace(owner, Spec{}).first;
    }
    d::Json spec = d::encode(pod.spec, d::Mode::kObject, 0);
    it->second.spec = pod.spec;
    it->second.json = spec == kDefault["spec"] ? std::string() : d::dumpJson(spec, false);
  }

  types::Meta meta = pod.meta;
  meta.revision = 0;
  d::Json metaJson = d::encode(meta, d::Mode::kObject, 0);
  d::Json statusJson = d::encode(pod.status, d::Mode::kObject, 0);
  // Keys in the encoder's (alphabetical) order: meta, spec, status.
  std::string out = "{";
  auto add = [&](const char* key, const std::string& value) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += key;
    out += "\":";
    out += value;
  };
  if (metaJson != kDefault["meta"]) add("meta", d::dumpJson(metaJson, false));
  if (!it->second.json.empty()) add("spec", it->second.json);
  if (statusJson != kDefault["status"]) add("status", d::dumpJson(statusJson, false));
  out += '}';
  return out;
}

}  // namespace lb::controller
