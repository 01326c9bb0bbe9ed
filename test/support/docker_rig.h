#pragma once

// Tests against the real dockerd that CTest starts in a network namespace
// (scripts/netns-dockerd.sh; see test/integration/runtime/CMakeLists.txt).

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace lb::testing {

// Why the rig is not usable here, or "" when it is: LB_TEST_SKIP set,
// DOCKER_HOST unset, or not inside the namespace LB_TEST_NETNS names.
inline std::string dockerRigProblem() {
  if (const char* skip = std::getenv("LB_TEST_SKIP")) return skip;
  if (!std::getenv("DOCKER_HOST")) return "DOCKER_HOST is not set (run through ctest)";
  if (const char* ns = std::getenv("LB_TEST_NETNS")) {
    struct stat want, have;
    std::string path = std::string("/run/netns/") + ns;
    if (::stat(path.c_str(), &want) != 0 || ::stat("/proc/self/ns/net", &have) != 0 ||
        want.st_ino != have.st_ino) {
      return "not running inside netns " + std::string(ns);
    }
  }
  return "";
}

// Skipping is allowed only off CI and when not root (the rig needs root);
// everywhere else an unusable rig fails the test.
inline bool dockerRigMaySkip() {
  const char* ci = std::getenv("CI");
  return ::geteuid() != 0 && !(ci && std::string(ci) == "true");
}

}  // namespace lb::testing

// In a fixture's SetUp (or a test): skips where dockerRigMaySkip() allows
// it, fails everywhere else, when the rig is not usable.
#define LB_REQUIRE_DOCKER_RIG()                                                  \
  do {                                                                           \
    const std::string lbRigProblem = ::lb::testing::dockerRigProblem();         \
    if (!lbRigProblem.empty()) {                                                 \
      if (::lb::testing::dockerRigMaySkip())                                     \
        GTEST_SKIP() << "runtime integration rig unavailable: " << lbRigProblem; \
      FAIL() << "runtime integration rig unavailable: " << lbRigProblem;         \
    }                                                                            \
  } while (0)
