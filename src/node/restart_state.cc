#include "node/restart_state.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "lastbackend/common/file.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/common/status.h"

namespace lb::node {

namespace {

// The file: {"pods": {"<selflink>": {"<container>": {"restarts": 2,
// "restartStreak": 1, "restartAt": <unix ms>, "pullStreak": 0, "pullAt": 0}}}}.
ContainerMemory decodeMemory(const nlohmann::json& v) {
  auto num = [&](const char* k) -> int64_t {
    auto it = v.find(k);
    return it != v.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  ContainerMemory m;
  m.restarts = static_cast<int>(num("restarts"));
  m.restartStreak = static_cast<int>(num("restartStreak"));
  m.restartAtMs = num("restartAt");
  m.pullStreak = static_cast<int>(num("pullStreak"));
  m.pullAtMs = num("pullAt");
  return m;
}

nlohmann::json encodeMemory(const ContainerMemory& m) {
  return {{"restarts", m.restarts},
          {"restartStreak", m.restartStreak},
          {"restartAt", m.restartAtMs},
          {"pullStreak", m.pullStreak},
          {"pullAt", m.pullAtMs}};
}

}  // namespace

RestartState::RestartState(std::string file, std::string node)
    : file_(std::move(file)), node_(std::move(node)) {}

void RestartState::load() {
  if (file_.empty()) return;
  std::ifstream in(file_);
  if (!in) return;  // first start
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  std::map<std::string, PodMemory> loaded;
  if (j.is_object() && j.contains("pods") && j["pods"].is_object()) {
    for (const auto& [pod, containers] : j["pods"].items()) {
      if (!containers.is_object()) continue;
      for (const auto& [name, v] : containers.items()) {
        if (!v.is_object()) continue;
        ContainerMemory m = decodeMemory(v);
        if (!(m == ContainerMemory{})) loaded[pod][name] = m;
      }
    }
  } else {
    spdlog::warn("node '{}': state file '{}' does not parse; starting without it", node_, file_);
  }
  std::lock_guard lock(mu_);
  memory_ = std::move(loaded);
}

void RestartState::save() {
  if (file_.empty()) return;
  nlohmann::json pods = nlohmann::json::object();
  {
    std::lock_guard lock(mu_);
    if (!dirty_) return;
    dirty_ = false;
    for (const auto& [pod, containers] : memory_)
      for (const auto& [name, m] : containers) pods[pod][name] = encodeMemory(m);
  }
  Status s = writeFileAtomic(file_, nlohmann::json{{"pods", pods}}.dump() + "\n");
  std::lock_guard lock(mu_);
  if (!s.isOk()) {
    // Again with the next report; said once until a write works.
    if (!writeFailing_) spdlog::warn("node '{}': {}", node_, s.toString());
    writeFailing_ = true;
    dirty_ = true;
  } else {
    writeFailing_ = false;
  }
}

PodMemory RestartState::recall(const std::string& selflink) const {
  std::lock_guard lock(mu_);
  auto it = memory_.find(selflink);
  return it == memory_.end() ? PodMemory{} : it->second;
}

void RestartState::remember(const std::string& selflink, const PodMemory& m) {
  std::lock_guard lock(mu_);
  if (m.empty()) {
    dirty_ |= memory_.erase(selflink) > 0;
    return;
  }
  auto& have = memory_[selflink];
  if (have == m) return;
  have = m;
  dirty_ = true;
}

void RestartState::forget(const std::string& selflink) {
  std::lock_guard lock(mu_);
  dirty_ |= memory_.erase(selflink) > 0;
}

void RestartState::prune(const std::function<bool(const std::string&)>& keep) {
  std::lock_guard lock(mu_);
  for (auto it = memory_.begin(); it != memory_.end();) {
    if (keep(it->first)) {
      ++it;
    } else {
      it = memory_.erase(it);
      dirty_ = true;
    }
  }
}

}  // namespace lb::node
