// The CII suite (cii_conformance.h) against fakes::FakeImageRuntime. The
// docker driver runs the same suite on the test dockerd
// (test/integration/runtime/docker_conformance_test.cc).

#include "conformance/cii_conformance.h"

#include "fakes/runtime/fake_cii.h"

namespace lb::conformance {
namespace {

class FakeBackend {
 public:
  FakeBackend() { images_.addImage(kImage); }

  std::string problem() { return ""; }
  bool maySkip() { return false; }
  runtime::cii::ImageRuntime& images() { return images_; }
  std::string image() { return kImage; }
  // The fake registry knows only what addRemote() names.
  std::string missingRef() { return "registry.invalid/lb/conformance-missing:1"; }

 private:
  static constexpr const char* kImage = "lb/busybox:local";
  fakes::FakeImageRuntime images_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Fake, CiiConformance, FakeBackend);

}  // namespace
}  // namespace lb::conformance
