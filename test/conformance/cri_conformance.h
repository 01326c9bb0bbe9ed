#pragma once

// The CRI contract (include/lastbackend/runtime/cri.h) as one typed suite,
// instantiated for every driver and for the fake: the docker driver on the
// test dockerd (test/integration/runtime/docker_conformance_test.cc) and
// fakes::FakeContainerRuntime (test/conformance/cri_conformance_test.cc),
// so nothing the node agent's tests trust of the fake differs from docker.
//
// A backend B provides:
//   std::string problem();  why it cannot run here, or ""
//   bool maySkip();          whether that problem skips (else it fails)
//   runtime::cri::ContainerRuntime& cri();
//   std::string image();     an image that is present
//   void program(ContainerSpec*, const conformance::Program&);
//                            makes the container's process do what Program says
//   std::vector<std::string> execCommand(const std::string& out, int code);
//                            argv that prints `out` and exits with `code`
//   std::string makeBridge(const std::string& name, const std::string& cidr);
//                            a bridge device addressed `cidr` for a network
//                            to be made on ("" or why it cannot be made)
//   void dropBridge(const std::string& name);
// Every container the suite makes carries kTestLabel=<pid> and is removed
// in TearDown, and so are its network and bridge.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "conformance/backend_test.h"
#include "lastbackend/runtime/cri.h"

namespace lb::conformance {

// What a container's process does: writes `out` to stdout and `err` to
// stderr, then exits with `exitCode`; without one it runs until stopped
// and exits 143 on SIGTERM.
struct Program {
  std::string out;
  std::string err;
  std::optional<int> exitCode;
};

inline constexpr const char* kTestLabel = "io.lastbackend.test";
inline std::string testId() { return std::to_string(::getpid()); }

template <typename B>
class CriConformance : public BackendTest<B> {
 protected:
  using ContainerSpec = runtime::cri::ContainerSpec;

  void TearDown() override {
    if (!this->ready_) return;
    auto mine = cri().list({{{kTestLabel, testId()}}, true, false});
    if (!mine.isOk()) return;
    for (const auto& c : *mine) (void)cri().remove(c.id, true);
    if (!bridge_.empty()) {
      (void)cri().removeNetwork("lbconf-" + testId());
      this->backend_.dropBridge(bridge_);
    }
  }

  // A network on a bridge of the test's own (made here), not yet ensured.
  runtime::cri::NetworkSpec network() {
    runtime::cri::NetworkSpec n;
    n.name = "lbconf-" + testId();
    n.bridge = "lbc" + testId();
    n.subnet = "10.244.77.0/24";
    n.gateway = "10.244.77.1";
    n.mtu = 1450;
    n.labels = {{kTestLabel, testId()}};
    EXPECT_EQ(this->backend_.makeBridge(n.bridge, n.gateway + "/24"), "");
    bridge_ = n.bridge;
    return n;
  }

  runtime::cri::ContainerRuntime& cri() { return this->backend_.cri(); }
  std::string bridge_;  // made by network()

  std::string nameOf(const std::string& name) { return "lbconf-" + testId() + "-" + name; }

  ContainerSpec spec(const std::string& name, const Program& program = {}) {
    ContainerSpec s;
    s.name = nameOf(name);
    s.image = this->backend_.image();
    s.labels = {{kTestLabel, testId()}, {runtime::cri::kLabelContainer, name}};
    this->backend_.program(&s, program);
    return s;
  }

  std::string run(const ContainerSpec& s) {
    auto id = cri().create(s);
    EXPECT_TRUE(id.isOk()) << id.status().message();
    if (!id.isOk()) return "";
    Status started = cri().start(*id);
    EXPECT_TRUE(started.isOk()) << started.message();
    return *id;
  }

  // stdout and stderr of a container, apart.
  std::pair<std::string, std::string> logsOf(const std::string& id,
                                             runtime::cri::LogOptions o = {}) {
    std::string out, err;
    Status s = cri().logs(id, o, [&](const runtime::cri::LogChunk& c) {
      (c.stream == runtime::cri::LogStream::kStderr ? err : out) += c.data;
      return true;
    });
    EXPECT_TRUE(s.isOk()) << s.message();
    return {out, err};
  }
};

TYPED_TEST_SUITE_P(CriConformance);

using namespace std::chrono_literals;
namespace cri = runtime::cri;

TYPED_TEST_P(CriConformance, CreateStartStopRemove) {
  auto s = this->spec("life");
  s.labels["extra"] = "x=y";
  auto id = this->cri().create(s);
  ASSERT_TRUE(id.isOk()) << id.status().message();
  auto created = this->cri().inspect(*id);
  ASSERT_TRUE(created.isOk()) << created.status().message();
  EXPECT_EQ(created->id, *id);
  EXPECT_EQ(created->name, s.name);
  EXPECT_EQ(created->image, s.image);
  EXPECT_EQ(created->state, cri::kStateCreated);
  EXPECT_FALSE(created->running());
  EXPECT_TRUE(created->startedAt.empty()) << created->startedAt;
  EXPECT_EQ(created->labels.at("extra"), "x=y");

  ASSERT_TRUE(this->cri().start(*id).isOk());
  EXPECT_TRUE(this->cri().start(*id).isOk());  // running already: fine
  auto running = this->cri().inspect(s.name);  // by name as well as by id
  ASSERT_TRUE(running.isOk()) << running.status().message();
  EXPECT_EQ(running->id, *id);
  EXPECT_EQ(running->state, cri::kStateRunning);
  EXPECT_TRUE(running->running());
  EXPECT_FALSE(running->startedAt.empty());
  EXPECT_TRUE(running->finishedAt.empty()) << running->finishedAt;

  ASSERT_TRUE(this->cri().stop(*id, 10s).isOk());
  EXPECT_TRUE(this->cri().stop(*id, 10s).isOk());  // stopped already: fine
  auto stopped = this->cri().inspect(*id);
  ASSERT_TRUE(stopped.isOk());
  EXPECT_EQ(stopped->state, cri::kStateExited);
  EXPECT_EQ(stopped->exitCode, 143);  // ended by SIGTERM
  EXPECT_FALSE(stopped->finishedAt.empty());

  ASSERT_TRUE(this->cri().remove(*id, false).isOk());
  EXPECT_EQ(this->cri().inspect(*id).status().code(), Code::kNotFound);
  EXPECT_EQ(this->cri().remove(*id, false).code(), Code::kNotFound);
}

TYPED_TEST_P(CriConformance, StopWithoutGraceEndsItAtOnce) {
  std::string id = this->run(this->spec("kill"));
  ASSERT_TRUE(this->cri().stop(id, 0s).isOk());
  auto info = this->cri().inspect(id);
  ASSERT_TRUE(info.isOk());
  EXPECT_EQ(info->state, cri::kStateExited);
  // SIGTERM and SIGKILL race: a process that handles SIGTERM may still win.
  EXPECT_TRUE(info->exitCode == 143 || info->exitCode == 137) << info->exitCode;
}

TYPED_TEST_P(CriConformance, MissingContainersAreNotFound) {
  const std::string missing = this->nameOf("missing");
  auto& c = this->cri();
  EXPECT_EQ(c.start(missing).code(), Code::kNotFound);
  EXPECT_EQ(c.stop(missing, 1s).code(), Code::kNotFound);
  EXPECT_EQ(c.remove(missing, true).code(), Code::kNotFound);
  EXPECT_EQ(c.inspect(missing).status().code(), Code::kNotFound);
  EXPECT_EQ(c.wait(missing, 1s).status().code(), Code::kNotFound);
  EXPECT_EQ(c.logs(missing, {}, [](const cri::LogChunk&) { return true; }).code(), Code::kNotFound);
  cri::ExecOptions e;
  e.command = this->backend_.execCommand("x", 0);
  EXPECT_EQ(c.exec(missing, e).status().code(), Code::kNotFound);
}

TYPED_TEST_P(CriConformance, CreateRefusesMissingImagesAndTakenNames) {
  auto noImage = this->spec("noimage");
  noImage.image = "lb/conformance-missing:1";
  auto r = this->cri().create(noImage);
  EXPECT_EQ(r.status().code(), Code::kNotFound) << r.status().message();

  auto s = this->spec("dup");
  ASSERT_TRUE(this->cri().create(s).isOk());
  auto again = this->cri().create(s);
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists) << again.status().message();
}

TYPED_TEST_P(CriConformance, RemovingARunningContainerNeedsForce) {
  std::string id = this->run(this->spec("busy"));
  EXPECT_EQ(this->cri().remove(id, false).code(), Code::kConflict);
  EXPECT_TRUE(this->cri().inspect(id).isOk());
  ASSERT_TRUE(this->cri().remove(id, true).isOk());
  EXPECT_EQ(this->cri().inspect(id).status().code(), Code::kNotFound);
}

TYPED_TEST_P(CriConformance, ListByLabels) {
  const std::string pod = "conformance:list:" + testId();
  auto a = this->spec("la");
  auto b = this->spec("lb");
  auto c = this->spec("lc");
  a.labels[cri::kLabelPod] = b.labels[cri::kLabelPod] = pod;
  this->run(a);
  ASSERT_TRUE(this->cri().create(b).isOk());  // created, not running
  this->run(c);
  auto names = [](const std::vector<cri::ContainerInfo>& infos) {
    std::set<std::string> out;
    for (const auto& i : infos) out.insert(i.name);
    return out;
  };
  auto all = this->cri().list({{{cri::kLabelPod, pod}}, true});
  ASSERT_TRUE(all.isOk()) << all.status().message();
  EXPECT_EQ(names(*all), (std::set<std::string>{a.name, b.name}));
  auto running = this->cri().list({{{cri::kLabelPod, pod}}, false});
  ASSERT_TRUE(running.isOk());
  EXPECT_EQ(names(*running), (std::set<std::string>{a.name}));
  // A label with an empty value matches any value.
  auto keyed = this->cri().list({{{kTestLabel, testId()}, {cri::kLabelContainer, ""}}, true});
  ASSERT_TRUE(keyed.isOk());
  EXPECT_EQ(keyed->size(), 3u);
  // Without details: still id, name, image, state and labels.
  auto brief = this->cri().list({{{cri::kLabelPod, pod}}, false, false});
  ASSERT_TRUE(brief.isOk());
  ASSERT_EQ(brief->size(), 1u);
  const auto& one = brief->front();
  EXPECT_FALSE(one.id.empty());
  EXPECT_EQ(one.name, a.name);
  EXPECT_EQ(one.image, a.image);
  EXPECT_EQ(one.state, cri::kStateRunning);
  EXPECT_EQ(one.labels.at(cri::kLabelPod), pod);
}

TYPED_TEST_P(CriConformance, WaitReturnsTheExitCodeAndLogsKeepTheStreamsApart) {
  std::string id = this->run(this->spec("print", {"one\ntwo\nthree\n", "oops\n", 3}));
  auto code = this->cri().wait(id, 30s);
  ASSERT_TRUE(code.isOk()) << code.status().message();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(*this->cri().wait(id, 5s), 3);  // exited already: at once
  auto info = this->cri().inspect(id);
  ASSERT_TRUE(info.isOk());
  EXPECT_EQ(info->state, cri::kStateExited);
  EXPECT_EQ(info->exitCode, 3);

  auto [out, err] = this->logsOf(id);
  EXPECT_EQ(out, "one\ntwo\nthree\n");
  EXPECT_EQ(err, "oops\n");
  cri::LogOptions onlyErr;
  onlyErr.stdoutStream = false;
  EXPECT_EQ(this->logsOf(id, onlyErr), std::make_pair(std::string(), std::string("oops\n")));
  cri::LogOptions follow;  // of an exited container: what there is, then the end
  follow.follow = true;
  EXPECT_EQ(this->logsOf(id, follow).first, "one\ntwo\nthree\n");
}

TYPED_TEST_P(CriConformance, LogTailCountsLines) {
  std::string id = this->run(this->spec("tail", {"one\ntwo\nthree\n", "", 0}));
  ASSERT_TRUE(this->cri().wait(id, 30s).isOk());
  cri::LogOptions tail;
  tail.tail = 2;
  EXPECT_EQ(this->logsOf(id, tail).first, "two\nthree\n");
  tail.tail = 0;
  EXPECT_EQ(this->logsOf(id, tail).first, "");
  tail.tail = 10;
  EXPECT_EQ(this->logsOf(id, tail).first, "one\ntwo\nthree\n");
}

TYPED_TEST_P(CriConformance, WaitOnARunningContainerTimesOut) {
  std::string id = this->run(this->spec("waits"));
  auto r = this->cri().wait(id, 300ms);
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << r.status().message();
}

TYPED_TEST_P(CriConformance, ExecRunsInRunningContainersOnly) {
  std::string id = this->run(this->spec("exec"));
  cri::ExecOptions e;
  e.command = this->backend_.execCommand("hello", 4);
  e.timeout = 30s;
  auto r = this->cri().exec(id, e);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->exitCode, 4);
  EXPECT_EQ(r->output, "hello");
  e.maxOutput = 2;
  r = this->cri().exec(this->nameOf("exec"), e);  // by name too
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->output, "he");

  cri::ExecOptions empty;
  EXPECT_EQ(this->cri().exec(id, empty).status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(this->cri().stop(id, 10s).isOk());
  EXPECT_EQ(this->cri().exec(id, e).status().code(), Code::kConflict);
}

TYPED_TEST_P(CriConformance, EventsStreamStartAndDieThenReplay) {
  std::vector<cri::Event> events;
  std::mutex mu;
  std::condition_variable cv;
  runtime::CancelToken cancel;
  cri::EventOptions o;
  o.labels = {{kTestLabel, testId()}, {cri::kLabelContainer, "dies"}};
  o.actions = {"start", "die"};
  std::thread watcher([&] {
    Status s = this->cri().events(
        o,
        [&](const cri::Event& e) {
          std::lock_guard lock(mu);
          events.push_back(e);
          cv.notify_all();
          return true;
        },
        &cancel);
    EXPECT_TRUE(s.isOk()) << s.message();
  });
  std::this_thread::sleep_for(300ms);  // the stream is open (no event says so)
  std::string id = this->run(this->spec("dies", {"", "", 3}));
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, 30s, [&] { return events.size() >= 2; });
  }
  cancel.cancel();
  watcher.join();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].action, "start");
  EXPECT_EQ(events[1].action, "die");
  EXPECT_EQ(events[1].id, id);
  EXPECT_EQ(events[1].exitCode, 3);
  EXPECT_EQ(events[1].name, this->nameOf("dies"));
  EXPECT_EQ(events[1].labels.at(cri::kLabelContainer), "dies");
  EXPECT_EQ(events[1].labels.count("image"), 0u);  // the container's labels only
  EXPECT_GT(events[1].timeNano, 0);

  // A replay of the past (since and until set) ends by itself.
  cri::EventOptions past = o;
  past.sinceUnix = events[0].timeNano / 1000000000 - 1;
  past.untilUnix = events[1].timeNano / 1000000000 + 1;
  int replayed = 0;
  ASSERT_TRUE(this->cri().events(past, [&](const cri::Event&) { return ++replayed > 0; }).isOk());
  EXPECT_EQ(replayed, 2);
}

TYPED_TEST_P(CriConformance, NetworksAreMadeOnceOnAnExistingBridge) {
  auto spec = this->network();
  auto made = this->cri().ensureNetwork(spec);
  ASSERT_TRUE(made.isOk()) << made.status().message();
  EXPECT_FALSE(made->id.empty());
  EXPECT_EQ(made->spec.name, spec.name);
  EXPECT_EQ(made->spec.bridge, spec.bridge);
  EXPECT_EQ(made->spec.subnet, spec.subnet);
  EXPECT_EQ(made->spec.gateway, spec.gateway);
  EXPECT_EQ(made->spec.mtu, 1450);
  EXPECT_EQ(made->spec.labels.at(kTestLabel), testId());
  auto again = this->cri().ensureNetwork(spec);
  ASSERT_TRUE(again.isOk()) << again.status().message();
  EXPECT_EQ(again->id, made->id);

  auto other = spec;
  other.subnet = "10.244.78.0/24";
  other.gateway = "10.244.78.1";
  auto moved = this->cri().ensureNetwork(other);
  EXPECT_EQ(moved.status().code(), Code::kConflict) << moved.status().message();
  EXPECT_NE(moved.status().message().find("subnet"), std::string::npos);
  auto bad = spec;
  bad.gateway = "10.244.79.1";
  EXPECT_EQ(this->cri().ensureNetwork(bad).status().field(), "gateway");
  bad = spec;
  bad.name = "-lb";
  EXPECT_EQ(this->cri().ensureNetwork(bad).status().field(), "name");
}

TYPED_TEST_P(CriConformance, AContainerOnTheNetworkHasAnAddressOfItsSubnet) {
  auto net = this->network();
  ASSERT_TRUE(this->cri().ensureNetwork(net).isOk());
  auto a = this->spec("net-a");
  a.network = net.name;
  auto b = this->spec("net-b");
  b.network = net.name;
  std::string ida = this->run(a), idb = this->run(b);
  std::set<std::string> ips;
  for (const auto& id : {ida, idb}) {
    auto c = this->cri().inspect(id);
    ASSERT_TRUE(c.isOk()) << c.status().message();
    EXPECT_EQ(c->networkMode, net.name);
    EXPECT_TRUE(c->ip.starts_with("10.244.77.")) << c->ip;
    EXPECT_NE(c->ip, net.gateway);
    EXPECT_NE(c->ip, "10.244.77.0");
    ips.insert(c->ip);
  }
  EXPECT_EQ(ips.size(), 2u);
  auto listed = this->cri().list({{{kTestLabel, testId()}}, true, true});
  ASSERT_TRUE(listed.isOk()) << listed.status().message();
  for (const auto& c : *listed) EXPECT_EQ(ips.count(c.ip), 1u) << c.name << " " << c.ip;

  auto both = this->spec("net-both");
  both.network = net.name;
  both.networkMode = "none";
  EXPECT_EQ(this->cri().create(both).status().code(), Code::kInvalidArgument);
  // docker checks the network when it starts the container, not before.
  auto nowhere = this->spec("net-nowhere");
  nowhere.network = "lbconf-missing-" + testId();
  auto lost = this->cri().create(nowhere);
  ASSERT_TRUE(lost.isOk()) << lost.status().message();
  Status started = this->cri().start(*lost);
  EXPECT_EQ(started.code(), Code::kNotFound) << started.message();
  EXPECT_NE(started.message().find(nowhere.network), std::string::npos) << started.message();
}

TYPED_TEST_P(CriConformance, ANetworkInUseIsNotRemoved) {
  auto net = this->network();
  ASSERT_TRUE(this->cri().ensureNetwork(net).isOk());
  auto a = this->spec("net-used");
  a.network = net.name;
  std::string id = this->run(a);
  Status busy = this->cri().removeNetwork(net.name);
  EXPECT_EQ(busy.code(), Code::kConflict) << busy.message();
  ASSERT_TRUE(this->cri().remove(id, true).isOk());
  Status removed = this->cri().removeNetwork(net.name);
  EXPECT_TRUE(removed.isOk()) << removed.message();
  EXPECT_EQ(this->cri().removeNetwork(net.name).code(), Code::kNotFound);
}

REGISTER_TYPED_TEST_SUITE_P(CriConformance, CreateStartStopRemove, StopWithoutGraceEndsItAtOnce,
                            MissingContainersAreNotFound, CreateRefusesMissingImagesAndTakenNames,
                            RemovingARunningContainerNeedsForce, ListByLabels,
                            WaitReturnsTheExitCodeAndLogsKeepTheStreamsApart, LogTailCountsLines,
                            WaitOnARunningContainerTimesOut, ExecRunsInRunningContainersOnly,
                            EventsStreamStartAndDieThenReplay,
                            NetworksAreMadeOnceOnAnExistingBridge,
                            AContainerOnTheNetworkHasAnAddressOfItsSubnet,
                            ANetworkInUseIsNotRemoved);

}  // namespace lb::conformance
