// libFuzzer entry point for the manifest parser. Built only with
// -DLB_BUILD_FUZZ=ON and clang; run it with scripts/fuzz.sh manifest_fuzzer.

#include <cstdlib>

#include "manifest_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!lb::types::fuzz::checkManifestInput(data, size)) std::abort();
  return 0;
}
