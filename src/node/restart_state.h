#pragma once

// What pod workers must not forget when the agent restarts, per container:
// the restarts the agent made and the back-off streaks of restarts and
// image pulls (AgentOptions::stateFile, "agent-<node>.json"). Kept in
// memory, written by the report thread when something changed.
// Thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace lb::node {

struct ContainerMemory {
  int restarts = 0;  // restarts the agent made
  int restartStreak = 0;
  int64_t restartAtMs = 0;  // wall clock (ms) of the streak's last restart
  int pullStreak = 0;
  int64_t pullAtMs = 0;  // ... of its last failed pull
  bool operator==(const ContainerMemory&) const = default;
};
using PodMemory = std::map<std::string, ContainerMemory>;  // container -> memory

class RestartState {
 public:
  // `file` "" = in memory only; `node` names the node in warnings.
  RestartState(std::string file, std::string node);

  // Reads the file (absent: first start). One that does not parse is set
  // aside with a warning, not fatal.
  void load();
  // Writes the file when a memory changed since the last write. A failed
  // write warns once (until a write works) and is tried again next time.
  void save();

  PodMemory recall(const std::string& selflink) const;
  // An empty `m` forgets the pod.
  void remember(const std::string& selflink, const PodMemory& m);
  void forget(const std::string& selflink);
  // Forgets every pod for which `keep` is false (pods in no spec any more).
  void prune(const std::function<bool(const std::string&)>& keep);

 private:
  const std::string file_, node_;
  mutable std::mutex mu_;
  std::map<std::string, PodMemory> memory_;  // pod selflink -> memory
  bool dirty_ = false;
  bool writeFailing_ = false;
};

}  // namespace lb::node
