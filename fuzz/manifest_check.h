#pragma once

// The property the manifest fuzzer checks, shared with the gcc replay test
// (test/unit/types/fuzz_replay_test.cc) so both exercise the same thing:
// parsing arbitrary bytes never crashes or throws, and whatever parses
// survives a manifest -> text -> manifest round trip unchanged.

#include <cstddef>
#include <cstdint>

namespace lb::types::fuzz {

// Returns false when a property is violated (the fuzzer then aborts).
bool checkManifestInput(const uint8_t* data, size_t size);

}  // namespace lb::types::fuzz
