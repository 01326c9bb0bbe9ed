#pragma once

// Nodes: work key "n/<node>". Marks a node offline when its heartbeat is
// older than the offline timeout (checked every health interval), and keeps
// its manifests (/manifest/node/<node>/...) equal to what it should run:
// its pods and the secrets, configs, volumes (and, if enabled, endpoints)
// they reference; nothing at all unless the node is registered and online.
// A draining node's spec.drain counts the pods left on it.

#include <map>
#include <optional>
#include <string>

#include "controller/loops/loop.h"

namespace lb::controller::loops {

class NodesLoop final : public Loop {
 public:
  explicit NodesLoop(Context& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "nodes"; }
  char prefix() const override { return 'n'; }
  std::vector<detail::Kind> kinds() const override;
  void onChange(const Change& change) override;
  void reconcile(const std::string& name) override;
  void tick(SteadyTime now) override;
  SteadyTime nextTick() const override;
  void resync() override;

 private:
  // key -> value; nullopt for pod manifests (encoded only when missing).
  using Manifests = std::map<std::string, std::optional<std::string>>;

  bool heartbeatStale(const types::NodeStatus& s) const;
  void markOfflineIfStale(const std::string& name);
  void reportDrain(const std::string& name);
  Manifests wanted(const std::string& name);
  void write(const std::string& name, Manifests want);
  std::string podManifest(const std::string& name, const std::string& sl);
  void enqueueNodesOf(std::string_view ns);

  Context& ctx_;
  SteadyTime lastHealth_{};
};

}  // namespace lb::controller::loops
