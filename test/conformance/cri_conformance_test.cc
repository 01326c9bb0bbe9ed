// The CRI suite (cri_conformance.h) against fakes::FakeContainerRuntime. The
// docker driver runs the same suite on the test dockerd
// (test/integration/runtime/docker_conformance_test.cc).

#include "conformance/cri_conformance.h"

#include <map>
#include <mutex>

#include "fakes/runtime/fake_cii.h"
#include "fakes/runtime/fake_cri.h"

namespace lb::conformance {
namespace {

// The fake runs no processes: a Program is played by the start handler
// (output, then exit) and execCommand() is argv the exec handler answers.
class FakeBackend {
 public:
  FakeBackend() {
    images_.addImage(kImage);
    cri_.setStartHandler([this](const std::string& id, const runtime::cri::ContainerSpec& s) {
      Program p;
      {
        std::lock_guard lock(mu_);
        auto it = programs_.find(s.name);
        if (it == programs_.end()) return;
        p = it->second;
      }
      if (!p.out.empty()) cri_.writeLog(id, runtime::cri::LogStream::kStdout, p.out);
      if (!p.err.empty()) cri_.writeLog(id, runtime::cri::LogStream::kStderr, p.err);
      if (p.exitCode) cri_.exit(id, *p.exitCode);
    });
    cri_.setExecHandler(
        [](const std::string&,
           const std::vector<std::string>& argv) -> StatusOr<runtime::cri::ExecResult> {
          if (argv.size() == 3 && argv[0] == "fake-exec")
            return runtime::cri::ExecResult{std::stoi(argv[2]), argv[1]};
          return runtime::cri::ExecResult{127, "fake: " + argv[0] + ": not found"};
        });
  }

  std::string problem() { return ""; }
  bool maySkip() { return false; }
  runtime::cri::ContainerRuntime& cri() { return cri_; }
  std::string image() { return kImage; }
  void program(runtime::cri::ContainerSpec* s, const Program& p) {
    std::lock_guard lock(mu_);
    programs_[s->name] = p;
    s->command = {"fake-program"};
  }
  std::vector<std::string> execCommand(const std::string& out, int code) {
    return {"fake-exec", out, std::to_string(code)};
  }
  std::string makeBridge(const std::string&, const std::string&) { return ""; }
  void dropBridge(const std::string&) {}

 private:
  static constexpr const char* kImage = "lb/busybox:local";
  fakes::FakeImageRuntime images_;
  fakes::FakeContainerRuntime cri_{realClock(), &images_};
  std::mutex mu_;
  std::map<std::string, Program> programs_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Fake, CriConformance, FakeBackend);

}  // namespace
}  // namespace lb::conformance
