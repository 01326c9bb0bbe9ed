#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, starts the real
# services the tests need, runs every test with CTest, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

bash scripts/setup.sh
bash scripts/build.sh

# The libFuzzer targets (manifest parser, DNS query path), each for a bounded
# time (clang build in ./build-fuzz). A crash fails the run and leaves the
# input in build-fuzz/fuzz/artifacts.
bash scripts/fuzz.sh manifest_fuzzer "${LB_FUZZ_SECONDS:-30}" 2>&1 | tail -n 3
bash scripts/fuzz.sh dns_fuzzer "${LB_FUZZ_SECONDS:-30}" 2>&1 | tail -n 3

# Services the tests use are started by the tests' own fixtures (etcd on a
# loopback port, dockerd inside a network namespace the test makes), so
# nothing here outlives the run.
export LB_SOURCE_DIR=$ROOT
cd build
ctest --output-on-failure --timeout 900 -j "${CTEST_JOBS:-2}"
