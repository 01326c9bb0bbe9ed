// The controller against hollow nodes on the mock store, driven step by
// step with a manual clock: no sleeps, no threads.

#include "controller/controller.h"

#include <gtest/gtest.h>

#include <functional>

#include "fakes/manual_clock.h"
#include "fixture.h"
#include "hollow_nodes.h"

namespace lb::controller::testing {
namespace {

using namespace std::chrono_literals;

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options o;
    o.driver = "mock";
    store_ = std::shared_ptr<storage::Storage>(std::move(storage::open(o).value()));
    putNamespace(*store_, "demo");
  }

  std::unique_ptr<Controller> makeController(const std::string& id) {
    Options o;
    o.id = id;
    o.clock = &clock_;
    o.servicesCidr = "10.96.0.0/24";
    o.nodeOfflineTimeout = 5s;
    o.leaseTtl = 3s;
    o.resyncInterval = 30s;
    o.healthInterval = 500ms;
    o.nodeEndpointManifests = true;
    auto c = Controller::create(store_, o);
    EXPECT_TRUE(c.isOk()) << c.status().message();
    return std::move(c.value());
  }

  void startCluster(HollowOptions h) {
    hollow_ = std::make_unique<HollowCluster>(store_, clock_, std::move(h));
    ASSERT_TRUE(hollow_->registerAll().isOk());
    ctl_ = makeController("c1");
  }

  // One round of everyone, then 100 ms of simulated time.
  void step() {
    for (auto* c : {ctl_.get(), ctl2_.get()}) {
      if (!c) continue;
      c->electionTick();
      Status s = c->runOnce();
      ASSERT_TRUE(s.isOk()) << s.message();
    }
    ASSERT_TRUE(hollow_->step().isOk());
    clock_.advance(100ms);
  }

  bool runUntil(const std::function<bool()>& done, int steps = 300) {
    for (int i = 0; i < steps; ++i) {
      step();
      if (done()) return true;
    }
    return false;
  }

  std::set<std::string> nodesOf(const std::string& svc) {
    std::set<std::string> out;
    for (const auto& [k, p] : podsOf(*store_, "demo", svc)) out.insert(p.status.node);
    return out;
  }

  types::Service service(const std::string& name) {
    types::Service s;
    auto o = store_->get(*keys::serviceKey("demo", name));
    EXPECT_TRUE(o.isOk());
    if (o.isOk()) {
      EXPECT_TRUE(types::fromJson(o->value, &s).isOk());
    }
    return s;
  }

  bool converged(const std::string& svc, int replicas) {
    auto deps = deploymentsOf(*store_, "demo", svc);
    return deps.size() == 1 &&
           podsOf(*store_, "demo", svc).size() == static_cast<size_t>(replicas) &&
           readyPods(*store_, "demo", svc) == replicas &&
           deps.begin()->second.status.state == types::State::kReady;
  }

  lb::testing::ManualClock clock_;
  std::shared_ptr<storage::Storage> store_;
  std::unique_ptr<HollowCluster> hollow_;
  std::unique_ptr<Controller> ctl_, ctl2_;
};

TEST_F(ControllerTest, ThreeReplicasOnThreeNodes) {
  startCluster({});
  applyService(*store_, makeService("demo", "web", 3));
  ASSERT_TRUE(runUntil([&] { return converged("web", 3); }));
  EXPECT_EQ(nodesOf("web"), (std::set<std::string>{"node-0", "node-1", "node-2"}));
  // Each pod has its manifest on its node, and nothing else is there but
  // the namespace's endpoint.
  for (const auto& [key, pod] : podsOf(*store_, "demo", "web")) {
    auto m = store_->list(*keys::nodeManifestsPrefix(pod.status.node));
    ASSERT_TRUE(m.isOk());
    std::set<std::string> got;
    for (const auto& o : m->items) got.insert(o.key);
    EXPECT_EQ(
        got,
        (std::set<std::string>{
            *keys::nodeManifestKey(pod.status.node, keys::ManifestKind::kPod, pod.meta.selflink),
            *keys::nodeManifestKey(pod.status.node, keys::ManifestKind::kEndpoint, "demo:web")}));
  }
  // The endpoint: a VIP from the range and the three ready pods.
  auto ep = listOf<types::Endpoint>(*store_, "/endpoint/");
  ASSERT_EQ(ep.size(), 1u);
  const auto& e = ep.begin()->second;
  EXPECT_EQ(e.spec.ip.rfind("10.96.0.", 0), 0u) << e.spec.ip;
  EXPECT_EQ(e.spec.upstreams.size(), 3u);
  EXPECT_EQ(e.spec.domain, "web.demo.lb.local");
  EXPECT_TRUE(store_->get(*keys::clusterEndpointManifestKey("demo:web")).isOk());
  EXPECT_EQ(service("web").status.state, types::State::kReady);
}

// Nothing serves routes yet: a route whose services are all ready is
// `initialized` (an ingress reports it served), never `ready`.
TEST_F(ControllerTest, RouteToReadyServicesIsInitializedNotReady) {
  startCluster({});
  types::Route r;
  r.meta.name = "site";
  r.meta.namespace_ = "demo";
  r.meta.selflink = "demo:site";
  r.spec.rules.push_back({"/", "web", 80});
  ASSERT_TRUE(store_->put(*keys::routeKey("demo", "site"), types::toJson(r)).isOk());
  auto route = [&] { return listOf<types::Route>(*store_, "/route/").begin()->second.status; };
  for (int i = 0; i < 3; ++i) step();
  EXPECT_EQ(route().state, "provision");
  EXPECT_EQ(route().message, "service 'web' has no ready endpoint");
  applyService(*store_, makeService("demo", "web", 2));
  ASSERT_TRUE(runUntil([&] { return converged("web", 2); }));
  for (int i = 0; i < 3; ++i) step();
  EXPECT_EQ(route().state, "initialized");
  EXPECT_EQ(route().message, "");
}

TEST_F(ControllerTest, NodeSelectorPutsAllPodsOnTheMatchingNode) {
  HollowOptions h;
  h.labels = [](int i) { return types::Labels{{"type", i == 1 ? "example" : "plain"}}; };
  startCluster(h);
  auto svc = makeService("demo", "pinned", 4);
  svc.spec.selector.labels = {{"type", "example"}};
  applyService(*store_, svc);
  ASSERT_TRUE(runUntil([&] { return converged("pinned", 4); }));
  EXPECT_EQ(nodesOf("pinned"), (std::set<std::string>{"node-1"}));

  auto byName = makeService("demo", "byname", 2);
  byName.spec.selector.node = "node-2";
  applyService(*store_, byName);
  ASSERT_TRUE(runUntil([&] { return converged("byname", 2); }));
  EXPECT_EQ(nodesOf("byname"), (std::set<std::string>{"node-2"}));
}

TEST_F(ControllerTest, ImageChangeIsBlueGreen) {
  HollowOptions h;
  h.readyDelay = 2s;
  startCluster(h);
  applyService(*store_, makeService("demo", "web", 3, "web:1"));
  ASSERT_TRUE(runUntil([&] { return converged("web", 3); }));
  const std::string first = deploymentsOf(*store_, "demo", "web").begin()->first;
  const auto firstPods = podsOf(*store_, "demo", "web");

  applyService(*store_, makeService("demo", "web", 3, "web:2"));
  // While the new deployment provisions, the old one keeps all its pods
  // and the endpoint still points at them.
  bool sawBoth = false;
  ASSERT_TRUE(runUntil([&] {
    auto deps = deploymentsOf(*store_, "demo", "web");
    if (deps.size() == 2) {
      sawBoth = true;
      int oldPods = 0;
      for (const auto& [k, p] : podsOf(*store_, "demo", "web")) oldPods += firstPods.count(k);
      EXPECT_EQ(oldPods, 3);
      for (const auto& [k, d] : deps) {
        if (k != first) {
          EXPECT_NE(d.status.state, types::State::kReady);
        }
      }
    }
    return converged("web", 3) && !deploymentsOf(*store_, "demo", "web").count(first);
  }));
  EXPECT_TRUE(sawBoth);
  for (const auto& [k, p] : podsOf(*store_, "demo", "web")) {
    EXPECT_FALSE(firstPods.count(k));
    EXPECT_EQ(p.spec.template_.containers[0].image.name, "web:2");
  }
  // The old pods' manifests are gone from the nodes too.
  auto manifests = store_->list("/manifest/node/");
  for (const auto& o : manifests->items) {
    for (const auto& [k, p] : firstPods) EXPECT_EQ(o.key.find(p.meta.selflink), std::string::npos);
  }
}

TEST_F(ControllerTest, FailingDeploymentLeavesTheOldOneServing) {
  startCluster({});
  applyService(*store_, makeService("demo", "web", 2, "web:1"));
  ASSERT_TRUE(runUntil([&] { return converged("web", 2); }));
  const std::string first = deploymentsOf(*store_, "demo", "web").begin()->first;
  hollow_->setFailImages({"web:broken"});
  applyService(*store_, makeService("demo", "web", 2, "web:broken"));
  ASSERT_TRUE(runUntil([&] { return service("web").status.state == types::State::kError; }));
  for (int i = 0; i < 30; ++i) step();
  auto deps = deploymentsOf(*store_, "demo", "web");
  ASSERT_EQ(deps.size(), 2u);
  EXPECT_EQ(deps[first].status.state, types::State::kReady);
  const auto msg = service("web").status.message;
  EXPECT_NE(msg.find("failed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("keeps serving"), std::string::npos) << msg;
  // Traffic still goes to the old pods.
  auto ep = listOf<types::Endpoint>(*store_, "/endpoint/").begin()->second;
  EXPECT_EQ(ep.spec.upstreams.size(), 2u);

  // Fixing the image rolls forward and retires both.
  applyService(*store_, makeService("demo", "web", 2, "web:3"));
  ASSERT_TRUE(runUntil([&] { return converged("web", 2); }));
}

TEST_F(ControllerTest, ReplicasChangeScalesTheSameDeployment) {
  startCluster({});
  applyService(*store_, makeService("demo", "web", 2));
  ASSERT_TRUE(runUntil([&] { return converged("web", 2); }));
  const std::string dep = deploymentsOf(*store_, "demo", "web").begin()->first;
  applyService(*store_, makeService("demo", "web", 5));
  ASSERT_TRUE(runUntil([&] { return converged("web", 5); }));
  EXPECT_EQ(deploymentsOf(*store_, "demo", "web").begin()->first, dep);
  applyService(*store_, makeService("demo", "web", 1));
  ASSERT_TRUE(runUntil([&] { return converged("web", 1); }));
  EXPECT_EQ(deploymentsOf(*store_, "demo", "web").begin()->first, dep);
  EXPECT_EQ(listOf<types::Endpoint>(*store_, "/endpoint/").begin()->second.spec.upstreams.size(),
            1u);
}

TEST_F(ControllerTest, SilentNodeLosesItsPodsWithinTheTimeout) {
  startCluster({});
  applyService(*store_, makeService("demo", "web", 3));
  ASSERT_TRUE(runUntil([&] { return converged("web", 3); }));
  hollow_->setSilent("node-1", true);
  const auto start = clock_.steadyNow();
  ASSERT_TRUE(runUntil([&] { return converged("web", 3) && !nodesOf("web").count("node-1"); }));
  EXPECT_LE(clock_.steadyNow() - start, 5s + 2s);
  auto node = listOf<types::Node>(*store_, "/cluster/node/node-1/status").begin()->second;
  EXPECT_FALSE(node.status.online);
  EXPECT_TRUE(store_->list(*keys::nodeManifestsPrefix("node-1"))->items.empty());
  // It comes back: online again, holds nothing stale, and takes new work.
  hollow_->setSilent("node-1", false);
  ASSERT_TRUE(runUntil([&] {
    return listOf<types::Node>(*store_, "/cluster/node/node-1/status")
        .begin()
        ->second.status.online;
  }));
  EXPECT_TRUE(hollow_->podsByNode()["node-1"].empty());
  applyService(*store_, makeService("demo", "more", 3));
  ASSERT_TRUE(runUntil([&] { return converged("more", 3); }));
  EXPECT_TRUE(nodesOf("more").count("node-1"));
}

TEST_F(ControllerTest, UnschedulablePodSaysWhy) {
  HollowOptions h;
  h.ram = 1LL << 30;
  startCluster(h);
  auto svc = makeService("demo", "big", 1);
  svc.spec.template_.containers[0].resources.request.ram = 2'000'000'000;
  applyService(*store_, svc);
  ASSERT_TRUE(runUntil([&] { return !service("big").status.message.empty(); }));
  auto msg = service("big").status.message;
  EXPECT_NE(msg.find("no node with 2GB RAM free; 3 nodes checked"), std::string::npos) << msg;
  auto pods = podsOf(*store_, "demo", "big");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods.begin()->second.status.state, types::State::kProvision);
  EXPECT_TRUE(pods.begin()->second.status.node.empty());

  auto labelled = makeService("demo", "gpu", 1);
  labelled.spec.selector.labels = {{"gpu", "yes"}};
  applyService(*store_, labelled);
  ASSERT_TRUE(runUntil([&] { return !service("gpu").status.message.empty(); }));
  msg = service("gpu").status.message;
  EXPECT_NE(msg.find("without label gpu=yes"), std::string::npos) << msg;
}

TEST_F(ControllerTest, DestroyTearsEverythingDownAndReleasesTheIp) {
  startCluster({});
  applyService(*store_, makeService("demo", "web", 3));
  ASSERT_TRUE(runUntil([&] { return converged("web", 3); }));
  markDestroy(*store_, "demo", "web");
  ASSERT_TRUE(runUntil([&] { return !store_->get(*keys::serviceKey("demo", "web")).isOk(); }));
  for (int i = 0; i < 5; ++i) step();
  EXPECT_TRUE(podsOf(*store_, "demo", "web").empty());
  EXPECT_TRUE(deploymentsOf(*store_, "demo", "web", /*retired=*/true).empty());
  EXPECT_TRUE(store_->list("/endpoint/")->items.empty());
  EXPECT_TRUE(store_->list("/manifest/")->items.empty());
  EXPECT_TRUE(store_->list("/manifests/cluster/endpoint/")->items.empty());
  // The nodes keep their pod subnets.
  EXPECT_FALSE(store_->list("/manifests/cluster/subnet/")->items.empty());
  auto ipam = store_->get("/system/ipam");
  ASSERT_TRUE(ipam.isOk());
  EXPECT_EQ(ipam->value.find("demo:web"), std::string::npos) << ipam->value;
}

TEST_F(ControllerTest, RestartedControllerStillReleasesTheIp) {
  startCluster({});
  applyService(*store_, makeService("demo", "web", 2));
  ASSERT_TRUE(runUntil([&] { return converged("web", 2); }));
  ASSERT_NE(store_->get("/system/ipam")->value.find("demo:web"), std::string::npos);
  // A new controller process: IPAM is loaded from the store, so its next
  // write must be an update of the loaded revision, not a create.
  ctl_.reset();
  ctl_ = makeController("c1");
  markDestroy(*store_, "demo", "web");
  ASSERT_TRUE(runUntil([&] { return !store_->get(*keys::serviceKey("demo", "web")).isOk(); }));
  EXPECT_TRUE(store_->list("/endpoint/")->items.empty());
  EXPECT_EQ(store_->get("/system/ipam")->value.find("demo:web"), std::string::npos);
}

TEST_F(ControllerTest, NamespaceLeftoversAreCleanedUp) {
  startCluster({});
  applyService(*store_, makeService("demo", "web", 2));
  ASSERT_TRUE(runUntil([&] { return converged("web", 2); }));
  // The API removed the namespace and the service but left the rest.
  ASSERT_TRUE(store_->del(*keys::namespaceKey("demo")).isOk());
  ASSERT_TRUE(store_->del(*keys::serviceKey("demo", "web")).isOk());
  ASSERT_TRUE(runUntil([&] {
    return store_->list("/pod/")->items.empty() && store_->list("/deployment/")->items.empty() &&
           store_->list("/endpoint/")->items.empty() && store_->list("/manifest/")->items.empty();
  }));
  EXPECT_EQ(store_->get("/system/ipam")->value.find("demo:web"), std::string::npos);
}

TEST_F(ControllerTest, SecondControllerTakesOverWhenTheLeaderDies) {
  startCluster({});
  ctl2_ = makeController("c2");
  applyService(*store_, makeService("demo", "web", 3));
  ASSERT_TRUE(runUntil([&] { return converged("web", 3); }));
  EXPECT_TRUE(ctl_->isLeader());
  EXPECT_FALSE(ctl2_->isLeader());
  // Kill the leader without releasing its lease.
  ctl_.reset();
  ASSERT_TRUE(runUntil([&] { return ctl2_->isLeader(); }, 60));
  applyService(*store_, makeService("demo", "web", 6));
  ASSERT_TRUE(runUntil([&] { return converged("web", 6); }));
  EXPECT_EQ(store_->list("/pod/")->items.size(), 6u);
}

TEST_F(ControllerTest, LeaderThatCannotRenewStopsWriting) {
  startCluster({});
  applyService(*store_, makeService("demo", "web", 2));
  ASSERT_TRUE(runUntil([&] { return converged("web", 2); }));
  // No renewal for 2/3 of the TTL (3 s): the controller must not act.
  clock_.advance(2100ms);
  EXPECT_FALSE(ctl_->isLeader());
  applyService(*store_, makeService("demo", "web", 4));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(ctl_->runOnce().isOk());
    ASSERT_TRUE(hollow_->step().isOk());
  }
  EXPECT_EQ(podsOf(*store_, "demo", "web").size(), 2u);
  // Renewing again resumes the work (from a fresh listing).
  ASSERT_TRUE(runUntil([&] { return converged("web", 4); }));
}

TEST_F(ControllerTest, NodesGetTheSecretsTheirPodsReferenceAndOnlyThose) {
  startCluster({});
  putData<types::Secret>(*store_, "demo", "db", {{"password", "one"}});
  putData<types::Secret>(*store_, "demo", "other", {{"password", "one"}});
  auto svc = makeService("demo", "web", 1);
  types::EnvVar env;
  env.name = "PASSWORD";
  env.secret = types::KeyRef{"db", "password"};
  svc.spec.template_.containers[0].env.push_back(env);
  applyService(*store_, svc);
  ASSERT_TRUE(runUntil([&] { return converged("web", 1); }));
  const std::string node = *nodesOf("web").begin();
  const std::string key = *keys::nodeManifestKey(node, keys::ManifestKind::kSecret, "demo:db");
  auto m = store_->get(key);
  ASSERT_TRUE(m.isOk());
  EXPECT_NE(m->value.find("password"), std::string::npos);
  EXPECT_EQ(store_->list("/manifest/node/")->items.size(), 3u);  // pod, secret, endpoint
  // A changed secret is re-written to the node.
  putData<types::Secret>(*store_, "demo", "db", {{"password", "two"}});
  ASSERT_TRUE(runUntil([&] {
    auto now = store_->get(key);
    return now.isOk() && now->value != m->value;
  }));
  // No pod references it any more: it leaves the node.
  markDestroy(*store_, "demo", "web");
  ASSERT_TRUE(runUntil([&] { return !store_->get(key).isOk(); }));
}

TEST_F(ControllerTest, ChangedSecretOrConfigInEnvRollsThePodsButNotAFileOnlyReference) {
  startCluster({});
  putData<types::Secret>(*store_, "demo", "db", {{"password", "one"}});
  putData<types::Config>(*store_, "demo", "conf", {{"app.ini", "a=1"}});

  auto envSvc = makeService("demo", "web", 2);
  types::EnvVar env;
  env.name = "PASSWORD";
  env.secret = types::KeyRef{"db", "password"};
  envSvc.spec.template_.containers[0].env.push_back(env);
  types::EnvVar mode;
  mode.name = "MODE";
  mode.config = types::KeyRef{"conf", "app.ini"};
  envSvc.spec.template_.containers[0].env.push_back(mode);
  applyService(*store_, envSvc);
  auto fileSvc = makeService("demo", "files", 1);
  types::TemplateVolume vol;
  vol.name = "conf";
  vol.config = types::FilesRef{"conf", {"app.ini"}};
  fileSvc.spec.template_.volumes.push_back(vol);
  applyService(*store_, fileSvc);
  ASSERT_TRUE(runUntil([&] { return converged("web", 2) && converged("files", 1); }));
  const std::string web1 = deploymentsOf(*store_, "demo", "web").begin()->first;
  const std::string files1 = deploymentsOf(*store_, "demo", "files").begin()->first;

  // The secret changes: web rolls to a new deployment (blue/green).
  putData<types::Secret>(*store_, "demo", "db", {{"password", "two"}});
  ASSERT_TRUE(runUntil(
      [&] { return converged("web", 2) && !deploymentsOf(*store_, "demo", "web").count(web1); }));
  const std::string web2 = deploymentsOf(*store_, "demo", "web").begin()->first;

  // The config changes: web rolls again; files (a volume of it) keeps its
  // deployment: agents rewrite the files in place.
  putData<types::Config>(*store_, "demo", "conf", {{"app.ini", "a=2"}});
  ASSERT_TRUE(runUntil(
      [&] { return converged("web", 2) && !deploymentsOf(*store_, "demo", "web").count(web2); }));
  for (int i = 0; i < 20; ++i) step();
  ASSERT_TRUE(converged("files", 1));
  EXPECT_EQ(deploymentsOf(*store_, "demo", "files").begin()->first, files1);

  // A write that leaves the data as it was (e.g. a description) rolls nothing.
  const std::string web3 = deploymentsOf(*store_, "demo", "web").begin()->first;
  auto stored = store_->get(*keys::configKey("demo", "conf"));
  ASSERT_TRUE(stored.isOk());
  types::Config config;
  ASSERT_TRUE(types::fromJson(stored->value, &config).isOk());
  config.meta.description = "same data";
  ASSERT_TRUE(store_->set(*keys::configKey("demo", "conf"), types::toJson(config)).isOk());
  for (int i = 0; i < 20; ++i) step();
  ASSERT_TRUE(converged("web", 2));
  EXPECT_EQ(deploymentsOf(*store_, "demo", "web").begin()->first, web3);
}

TEST_F(ControllerTest, ManySmallServicesConverge) {
  HollowOptions h;
  h.nodes = 20;
  startCluster(h);
  for (int i = 0; i < 40; ++i)
    applyService(*store_, makeService("demo", "s" + std::to_string(i), 5));
  ASSERT_TRUE(runUntil([&] {
    return hollow_->podsReported() >= 200 && store_->list("/pod/")->items.size() == 200;
  }));
  ASSERT_TRUE(runUntil([&] {
    for (int i = 0; i < 40; ++i)
      if (!converged("s" + std::to_string(i), 5)) return false;
    return true;
  }));
  // Spread: 200 pods over 20 nodes, 10 each.
  for (const auto& [node, pods] : hollow_->podsByNode()) EXPECT_EQ(pods.size(), 10u) << node;
  EXPECT_EQ(listOf<types::Endpoint>(*store_, "/endpoint/").size(), 40u);
}

}  // namespace
}  // namespace lb::controller::testing
