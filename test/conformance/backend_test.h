#pragma once

// The fixture base of the runtime conformance suites: a backend B (a driver
// or a fake, see cri_conformance.h) that may be unusable here, e.g. no test
// dockerd. B::problem() says why, B::maySkip() whether that skips the test
// or fails it.

#include <gtest/gtest.h>

#include <string>

namespace lb::conformance {

template <typename B>
class BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = backend_.problem();
    if (!problem.empty()) {
      if (backend_.maySkip()) GTEST_SKIP() << "backend unavailable: " << problem;
      FAIL() << "backend unavailable: " << problem;
    }
    ready_ = true;
  }

  B backend_;
  bool ready_ = false;  // SetUp passed: TearDown may clean up through backend_
};

}  // namespace lb::conformance
