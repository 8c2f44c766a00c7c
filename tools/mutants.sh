#!/usr/bin/env bash
# The mutation check (issue 7): does the fuzzer bite?  Each tests/mutants/NAME.patch is a small
# change to core/ that plants a known class of consensus bug; its header names the fuzz workload
# that must catch it and within how many seeds ("# catch-within: N").  This script copies the
# source tree into a temporary directory, builds paddock there once, then for each mutant applies
# the patch, rebuilds (only what changed), runs `paddock fuzz WORKLOAD --seeds 1..N --stop-on-failure`
# and reverts the patch.  It prints the seed that caught each mutant and fails if one was not
# caught within its bound, or if the unmutated build fails a seed of the same run.
#   tools/mutants.sh [--jobs N] [MUTANT...]      (MUTANT: a name under tests/mutants/, default all)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=2
if [ "${1:-}" = "--jobs" ]; then jobs=$2; shift 2; fi
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/pd-mutants-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cp -r CMakeLists.txt cmake core client sim lua net bench reports "$work/src/"
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPD_TESTS=OFF >/dev/null
cmake --build "$work/build" -j"$jobs" --target paddock >/dev/null
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for p in tests/mutants/*.patch; do names+=("$(basename "$p" .patch)"); done
fi
printf '%-28s %-9s %-14s %s\n' mutant workload "caught at" "seeds (bound)"
failed=0
for name in "${names[@]}"; do
  patch="$root/tests/mutants/$name.patch"
  workload=$(sed -n 's/^# workload: //p' "$patch")
  bound=$(sed -n 's/^# catch-within: //p' "$patch")
  patch -s -p1 -d "$work/src" < "$patch"
  if ! cmake --build "$work/build" -j"$jobs" --target paddock >/dev/null 2>"$work/build.log"; then
    echo "$name: the mutant does not build"; cat "$work/build.log"; failed=1
    patch -s -R -p1 -d "$work/src" < "$patch"; continue
  fi
  out=$("$work/build/paddock" fuzz "$workload" --seeds "1..$bound" --jobs "$jobs" --stop-on-failure --quiet || true)
  patch -s -R -p1 -d "$work/src" < "$patch"
  seed=$(printf '%s\n' "$out" | sed -n 's/^seed \([0-9]*\): .*/\1/p' | sort -n | head -1)
  if [ -n "$seed" ]; then
    what=$(printf '%s\n' "$out" | grep -m1 "^seed $seed: " | sed 's/; replay:.*//' | cut -c1-150)
    printf '%-28s %-9s %-14s %s\n' "$name" "$workload" "seed $seed" "$bound   $what"
  else
    printf '%-28s %-9s %-14s %s\n' "$name" "$workload" "NOT CAUGHT" "$bound"
    failed=1
  fi
done
# the unmutated tree again: the same runs must pass, or the catches above mean nothing
cmake --build "$work/build" -j"$jobs" --target paddock >/dev/null
for w in election writes; do
  if ! "$work/build/paddock" fuzz "$w" --seeds 1..300 --jobs "$jobs" --quiet >/dev/null; then
    echo "the unmutated build fails fuzz $w seeds 1..300"; failed=1
  fi
done
[ "$failed" -eq 0 ] && echo "mutation check: every mutant caught"
exit "$failed"
