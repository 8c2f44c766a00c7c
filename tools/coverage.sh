#!/usr/bin/env bash
# Line coverage of the core: builds build-cov/ with gcov (-O0 --coverage), runs the unit, tool,
# fuzz-corpus, simulator and scenario tests there (the simulator with ENS_SEEDS/SIM_SEEDS of 200 unless
# set), writes an lcov HTML report into reports/coverage/ and prints one summary line per
# directory (core/ first).  --net also runs the real-socket tests (their servers exit by
# SIGTERM and write their counters).  Exit status: that of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
labels='unit|tool|sim|fuzz'
[ "${1:-}" = "--net" ] && labels='unit|tool|sim|fuzz|net'
cmake -S . -B build-cov -DCMAKE_BUILD_TYPE=Debug -DPD_COVERAGE=ON >/dev/null
cmake --build build-cov -j"$jobs" >/dev/null
lcov --quiet --zerocounters --directory build-cov
export ENS_SEEDS=${ENS_SEEDS:-200} SIM_SEEDS=${SIM_SEEDS:-200} SCENARIO_SEEDS=${SCENARIO_SEEDS:-30} FUZZ_SEEDS=${FUZZ_SEEDS:-300}
ctest --test-dir build-cov --output-on-failure -L "$labels" -LE 'kazoo|diff|bench'
lcov --quiet --capture --directory build-cov --base-directory . --output-file build-cov/all.info 2>/dev/null
lcov --quiet --extract build-cov/all.info "$PWD/core/*" "$PWD/net/*" "$PWD/sim/*" "$PWD/client/*" "$PWD/lua/*" \
  --output-file build-cov/coverage.info
rm -rf reports/coverage
genhtml --quiet --title "paddock coverage" --output-directory reports/coverage build-cov/coverage.info
for d in core net sim client lua; do
  lcov --quiet --extract build-cov/coverage.info "$PWD/$d/*" --output-file "build-cov/$d.info"
  line=$(lcov --summary "build-cov/$d.info" 2>&1 | grep -m1 'lines' | sed 's/^ *//')
  echo "coverage: $d/ $line"
done
echo "coverage: HTML report in reports/coverage/index.html"
