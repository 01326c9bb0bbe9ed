#include "cli/rollout.h"

#include <gtest/gtest.h>

namespace lb::cli {
namespace {

types::PodTemplate tmpl(const std::string& image) {
  types::PodTemplate t;
  types::ContainerSpec c;
  c.name = "web";
  c.image.name = image;
  t.containers.push_back(c);
  return t;
}

types::Service service(int replicas, const std::string& image) {
  types::Service s;
  s.meta.name = "web";
  s.spec.replicas = replicas;
  s.spec.template_ = tmpl(image);
  return s;
}

types::Deployment deployment(const std::string& name, int replicas, const std::string& image,
                             int total = 0, int ready = 0) {
  types::Deployment d;
  d.meta.name = name;
  d.spec.replicas = replicas;
  d.spec.template_ = tmpl(image);
  d.status.replicas.total = total;
  d.status.replicas.ready = ready;
  return d;
}

std::vector<types::Pod> pods(int ready, int notReady, const std::string& message = "") {
  std::vector<types::Pod> out;
  for (int i = 0; i < ready + notReady; ++i) {
    types::Pod p;
    p.status.ready = i < ready;
    if (i >= ready) p.status.message = message;
    out.push_back(p);
  }
  return out;
}

TEST(RolloutTest, DoneWhenCurrentDeploymentHasAllPodsReady) {
  auto r = rolloutOf(service(3, "v1"), {deployment("a", 3, "v1")}, {{"a", pods(3, 0)}});
  EXPECT_TRUE(r.done());
  EXPECT_EQ(describe(r), "web: 3 of 3 pods ready");
}

TEST(RolloutTest, NotDoneWhilePodsStartAndShowsTheirMessage) {
  auto r = rolloutOf(service(3, "v1"), {deployment("a", 3, "v1")},
                     {{"a", pods(1, 2, "pulling image v1")}});
  EXPECT_FALSE(r.done());
  EXPECT_EQ(describe(r), "web: 1 of 3 pods ready (pulling image v1)");
}

// What the service says of its rollout (a phase) is shown rather than a
// pod's message.
TEST(RolloutTest, ShowsTheServicesPhase) {
  auto svc = service(4, "v2");
  svc.status.message =
      "rolling out deployment b in batches (no room beside a): 1 of 4 new pods ready";
  auto r = rolloutOf(svc, {deployment("b", 4, "v2")}, {{"b", pods(1, 1, "pulling image v2")}});
  EXPECT_EQ(describe(r), "web: 1 of 4 pods ready (" + svc.status.message + ")");
}

TEST(RolloutTest, OldTemplateDoesNotCountUntilItsPodsAreGone) {
  types::Service svc = service(2, "v2");
  // Right after apply: only the old deployment exists, all Ready.
  auto before = rolloutOf(svc, {deployment("old", 2, "v1")}, {{"old", pods(2, 0)}});
  EXPECT_FALSE(before.done());
  EXPECT_EQ(describe(before), "web: waiting for the deployment of the new spec, 2 old pods left");
  // New one Ready, old pods still there.
  auto during = rolloutOf(svc, {deployment("old", 2, "v1"), deployment("new", 2, "v2")},
                          {{"old", pods(2, 0)}, {"new", pods(2, 0)}});
  EXPECT_FALSE(during.done());
  EXPECT_EQ(during.old, 2);
  auto after = rolloutOf(svc, {deployment("old", 2, "v1"), deployment("new", 2, "v2")},
                         {{"new", pods(2, 0)}});
  EXPECT_TRUE(after.done());
}

TEST(RolloutTest, ScaleWaitsForTheNewSizeAndForExtraPodsToGo) {
  // The controller has not resized the deployment yet.
  EXPECT_FALSE(rolloutOf(service(5, "v1"), {deployment("a", 1, "v1")}, {{"a", pods(1, 0)}}).done());
  // Scale down: two pods still being removed.
  auto down = rolloutOf(service(2, "v1"), {deployment("a", 2, "v1")}, {{"a", pods(4, 0)}});
  EXPECT_FALSE(down.done());
  EXPECT_EQ(describe(down), "web: 4 of 2 pods ready, 2 more being removed");
}

TEST(RolloutTest, TerminatingDeploymentIsNotCurrent) {
  auto d = deployment("a", 1, "v1");
  d.status.state = types::State::kDestroy;
  auto r = rolloutOf(service(1, "v1"), {d}, {{"a", pods(1, 0)}});
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.old, 1);
}

TEST(RolloutTest, ZeroReplicasDoneWhenNoPodIsLeft) {
  EXPECT_TRUE(rolloutOf(service(0, "v1"), {deployment("a", 0, "v1")}, {}).done());
  EXPECT_FALSE(rolloutOf(service(0, "v1"), {deployment("a", 0, "v1")}, {{"a", pods(0, 1)}}).done());
}

// A changed secret the env takes rolls the pods with the template
// unchanged: the deployment hash apply answered tells the new deployment
// from the old one.
TEST(RolloutTest, TheAppliedHashPicksTheDeploymentNotTheTemplate) {
  auto old = deployment("old", 2, "v1", 2, 2);
  old.spec.templateHash = "aaaa";
  types::Service svc = service(2, "v1");
  EXPECT_TRUE(rolloutOf(svc, {old}, {{"old", pods(2, 0)}}).done()) << "by template alone";
  auto waiting = rolloutOf(svc, {old}, {{"old", pods(2, 0)}}, "bbbb");
  EXPECT_FALSE(waiting.done());
  EXPECT_EQ(describe(waiting), "web: waiting for the deployment of the new spec, 2 old pods left");
  EXPECT_FALSE(rolloutFromStatus(svc, {old}, "bbbb").done());
  auto fresh = deployment("new", 2, "v1", 2, 2);
  fresh.spec.templateHash = "bbbb";
  EXPECT_FALSE(
      rolloutOf(svc, {old, fresh}, {{"old", pods(2, 0)}, {"new", pods(2, 0)}}, "bbbb").done());
  EXPECT_TRUE(rolloutOf(svc, {old, fresh}, {{"new", pods(2, 0)}}, "bbbb").done());
}

TEST(RolloutTest, FromStatusCountsMatchThePodView) {
  types::Service svc = service(3, "v2");
  auto r =
      rolloutFromStatus(svc, {deployment("old", 3, "v1", 3, 3), deployment("new", 3, "v2", 3, 2)});
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.ready, 2);
  EXPECT_EQ(r.old, 3);
  EXPECT_TRUE(rolloutFromStatus(svc, {deployment("new", 3, "v2", 3, 3)}).done());
}

}  // namespace
}  // namespace lb::cli
