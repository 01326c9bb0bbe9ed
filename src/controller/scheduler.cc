#include "controller/scheduler.h"

#include <algorithm>
#include <limits>

#include "lastbackend/types/quantity.h"

namespace lb::controller {

namespace {

// "2GB", "1.5GB", "512MB": decimal units, one decimal, for messages.
std::string humanBytes(int64_t bytes) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {
      {1'000'000'000'000, "TB"}, {1'000'000'000, "GB"}, {1'000'000, "MB"}, {1'000, "KB"}};
  for (const auto& [size, unit] : kUnits) {
    if (bytes < size) continue;
    int64_t tenths = (bytes * 10 + size / 2) / size;
    std::string out = std::to_string(tenths / 10);
    if (tenths % 10) out += "." + std::to_string(tenths % 10);
    return out + unit;
  }
  return std::to_string(bytes) + "B";
}

}  // namespace

int64_t Scheduler::load(const Entry& e) {
  int64_t cpu = e.capacity.cpu > 0 ? e.cpuUsed * 1000 / e.capacity.cpu : 0;
  int64_t ram = e.capacity.ram > 0 ? e.ramUsed * 1000 / e.capacity.ram : 0;
  return std::max(cpu, ram);
}

bool Scheduler::fits(const Entry& e, ResourceRequest req) {
  if (e.capacity.cpu > 0 && e.cpuUsed + req.cpu > e.capacity.cpu) return false;
  if (e.capacity.ram > 0 && e.ramUsed + req.ram > e.capacity.ram) return false;
  if (e.capacity.pods > 0 && e.pods + 1 > e.capacity.pods) return false;
  return true;
}

bool Scheduler::labelsMatch(const Entry& e, const types::Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = e.labels.find(k);
    if (it == e.labels.end() || it->second != v) return false;
  }
  return true;
}

void Scheduler::index(const std::string& name, const Entry& e) {
  if (e.schedulable) byLoad_.insert({load(e), e.pods, name});
}

void Scheduler::unindex(const std::string& name, const Entry& e) {
  if (e.schedulable) byLoad_.erase({load(e), e.pods, name});
}

void Scheduler::upsertNode(const std::string& name, const types::Labels& labels,
                           NodeCapacity capacity, bool schedulable) {
  auto [it, added] = nodes_.try_emplace(name);
  Entry& e = it->second;
  if (!added) {
    unindex(name, e);
    for (const auto& [k, v] : e.labels) byLabel_[k + "=" + v].erase(name);
  }
  e.labels = labels;
  e.capacity = capacity;
  e.schedulable = schedulable;
  for (const auto& [k, v] : e.labels) byLabel_[k + "=" + v].insert(name);
  index(name, e);
}

void Scheduler::removeNode(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  unindex(name, it->second);
  for (const auto& [k, v] : it->second.labels) {
    auto l = byLabel_.find(k + "=" + v);
    if (l == byLabel_.end()) continue;
    l->second.erase(name);
    if (l->second.empty()) byLabel_.erase(l);
  }
  // Tallies stay meaningful if the node comes back: keep them in a
  // placeholder that is not schedulable.
  Entry placeholder;
  placeholder.cpuUsed = it->second.cpuUsed;
  placeholder.ramUsed = it->second.ramUsed;
  placeholder.pods = it->second.pods;
  if (placeholder.pods == 0) {
    nodes_.erase(it);
  } else {
    it->second = placeholder;
  }
}

void Scheduler::addPod(const std::string& node, const std::string& deployment,
                       ResourceRequest req) {
  Entry& e = nodes_[node];
  unindex(node, e);
  e.cpuUsed += req.cpu;
  e.ramUsed += req.ram;
  e.pods++;
  index(node, e);
  perDeployment_[deployment][node]++;
}

void Scheduler::removePod(const std::string& node, const std::string& deployment,
                          ResourceRequest req) {
  auto it = nodes_.find(node);
  if (it != nodes_.end()) {
    Entry& e = it->second;
    unindex(node, e);
    e.cpuUsed -= req.cpu;
    e.ramUsed -= req.ram;
    e.pods--;
    index(node, e);
    if (e.pods <= 0 && !e.schedulable && e.labels.empty() && e.capacity.cpu == 0 &&
        e.capacity.ram == 0)
      nodes_.erase(it);
  }
  auto d = perDeployment_.find(deployment);
  if (d == perDeployment_.end()) return;
  auto n = d->second.find(node);
  if (n != d->second.end() && --n->second <= 0) d->second.erase(n);
  if (d->second.empty()) perDeployment_.erase(d);
}

int Scheduler::podsOn(const std::string& node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.pods;
}

int Scheduler::depCount(const std::string& deployment, const std::string& node) const {
  auto d = perDeployment_.find(deployment);
  if (d == perDeployment_.end()) return 0;
  auto n = d->second.find(node);
  return n == d->second.end() ? 0 : n->second;
}

Scheduler::Placement Scheduler::place(const std::string& deployment,
                                      const types::NodeSelector& selector,
                                      ResourceRequest req) const {
  auto ok = [&](const std::string& name, const Entry& e) {
    return e.schedulable && labelsMatch(e, selector.labels) && fits(e, req) &&
           (selector.node.empty() || selector.node == name);
  };
  using Score = std::tuple<int, int64_t, int, std::string>;
  std::optional<Score> best;
  auto consider = [&](const std::string& name, const Entry& e) {
    if (!ok(name, e)) return;
    Score s{depCount(deployment, name), load(e), e.pods, name};
    if (!best || s < *best) best = s;
  };

  if (!selector.node.empty()) {
    auto it = nodes_.find(selector.node);
    if (it != nodes_.end()) consider(it->first, it->second);
  } else {
    // A selective label narrows the candidates to its index entry.
    const std::set<std::string>* smallest = nullptr;
    for (const auto& [k, v] : selector.labels) {
      auto l = byLabel_.find(k + "=" + v);
      if (l == byLabel_.end()) return {"", explain(selector, req)};
      if (!smallest || l->second.size() < smallest->size()) smallest = &l->second;
    }
    if (smallest && smallest->size() <= 256) {
      for (const auto& name : *smallest) consider(name, nodes_.at(name));
    } else {
      // Lightest nodes first: the first fitting node without a pod of this
      // deployment is the best of all nodes without one.
      for (const auto& [l, pods, name] : byLoad_) {
        const Entry& e = nodes_.at(name);
        if (depCount(deployment, name) != 0) continue;
        if (!ok(name, e)) continue;
        best = Score{0, l, pods, name};
        break;
      }
      if (!best) {
        // Every node already has one: choose among the nodes of this
        // deployment (at most its replica count).
        auto d = perDeployment_.find(deployment);
        if (d != perDeployment_.end()) {
          for (const auto& [name, count] : d->second) {
            auto it = nodes_.find(name);
            if (it != nodes_.end()) consider(name, it->second);
          }
        }
      }
    }
  }
  if (best) return {std::get<3>(*best), ""};
  return {"", explain(selector, req)};
}

std::string Scheduler::explain(const types::NodeSelector& selector, ResourceRequest req) const {
  int checked = 0, offline = 0, wrongName = 0, cpuShort = 0, ramShort = 0, podsFull = 0;
  std::map<std::string, int> missingLabel;
  for (const auto& [name, e] : nodes_) {
    if (!e.schedulable && e.capacity.cpu == 0 && e.capacity.ram == 0 && e.labels.empty())
      continue;  // a tally placeholder of a removed node
    checked++;
    if (!selector.node.empty() && name != selector.node) {
      wrongName++;
      continue;
    }
    if (!e.schedulable) {
      offline++;
      continue;
    }
    bool labelMiss = false;
    for (const auto& [k, v] : selector.labels) {
      auto it = e.labels.find(k);
      if (it == e.labels.end() || it->second != v) {
        missingLabel[k + "=" + v]++;
        labelMiss = true;
      }
    }
    if (labelMiss) continue;
    if (e.capacity.cpu > 0 && e.cpuUsed + req.cpu > e.capacity.cpu) cpuShort++;
    if (e.capacity.ram > 0 && e.ramUsed + req.ram > e.capacity.ram) ramShort++;
    if (e.capacity.pods > 0 && e.pods + 1 > e.capacity.pods) podsFull++;
  }
  std::string need;
  if (ramShort) need = humanBytes(req.ram) + " RAM";
  if (cpuShort)
    need += std::string(need.empty() ? "" : " and ") + types::formatCpu(req.cpu) + " CPU";
  std::string head;
  if (!selector.node.empty() && wrongName == checked) {
    head = "node '" + selector.node + "' (selector.node) is not registered";
  } else if (!selector.node.empty() && offline) {
    head = "node '" + selector.node + "' (selector.node) is offline or unschedulable";
  } else if (!need.empty()) {
    head = "no node with " + need + " free";
  } else if (podsFull) {
    head = "no node with a free pod slot";
  } else if (!missingLabel.empty()) {
    head = "no node matches the selector labels";
  } else if (checked == 0) {
    head = "no nodes registered";
  } else {
    head = "no schedulable node";
  }
  std::string details;
  auto add = [&](int n, const std::string& what) {
    if (n) details += (details.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(offline, "offline or unschedulable");
  for (const auto& [label, n] : missingLabel) add(n, "without label " + label);
  add(ramShort, "short of RAM");
  add(cpuShort, "short of CPU");
  add(podsFull, "at their pod limit");
  return head + "; " + std::to_string(checked) + " node" + (checked == 1 ? "" : "s") + " checked" +
         (details.empty() ? "" : " (" + details + ")");
}

}  // namespace lb::controller
