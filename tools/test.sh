#!/usr/bin/env bash
# Runs the whole test suite of an already configured build tree (default build/).
#   tools/test.sh                 every test of build/ (unit, tool, sim, net, diff, kazoo, fuzz)
#   tools/test.sh --sanitize      configure+build build-asan/ (ASan+UBSan) and run its unit,
#                                 tool, sim, fuzz and net tests (the slow kazoo/diff groups excluded)
#   tools/test.sh --fuzz          build the libFuzzer target with clang in build-fuzz/ and run
#                                 the fuzz group there (corpus replay + a deterministic bounded
#                                 fuzzing run: seed 1, 100,000 inputs; the peer target: 50,000)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPD_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export ENS_SEEDS=${ENS_SEEDS:-100} # ensemble seeds under the sanitizers (the normal build runs 2000)
  export SCENARIO_SEEDS=${SCENARIO_SEEDS:-30} # seeds per scenario under the sanitizers (the normal build runs 100)
  export FUZZ_SEEDS=${FUZZ_SEEDS:-200}        # swarm fuzz seeds under the sanitizers (the normal build runs 2000)
  ctest --test-dir build-asan --output-on-failure -LE 'kazoo|diff|bench'
elif [ "${1:-}" = "--fuzz" ]; then
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPD_FUZZ=ON >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_request fuzz_replay_corpus fuzz_peer fuzz_replay_peer
  ctest --test-dir build-fuzz --output-on-failure -L fuzz
else
  ctest --test-dir build --output-on-failure
fi
