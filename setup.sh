#!/usr/bin/env bash
# Installs what is missing on a fresh Debian 12 machine (apt-get), then configures and
# builds paddock into build/.  Safe to run again: it installs only missing packages.
#   ./setup.sh            release build (RelWithDebInfo) in build/
#   ./setup.sh --sanitize also builds an ASan+UBSan tree in build-asan/
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  build-essential cmake pkg-config git
  libssl-dev            # OpenSSL libcrypto: SHA-1 and MD5 for digest auth and SASL
  libsqlite3-dev        # run records (later issues)
  liblua5.4-dev lua5.4  # scenarios (later issues)
  libcmocka-dev         # unit tests
  lcov                  # coverage reports
  clang                 # libFuzzer target
  libzookeeper-mt-dev zookeeper-bin   # the real ZooKeeper C client: tests and bench
  zookeeper             # Apache ZooKeeper 3.8 (Java): differential tests, zkCli.sh, bench
  python3 python3-kazoo python3-pytest python3-pure-sasl  # kazoo tests and its own suite
  python3-mock python3-objgraph python3-eventlet python3-gevent  # imported by kazoo's suite
  netcat-openbsd procps
  chromium              # headless screenshots of the run report (tests)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPD_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
fi
echo "setup: built build/paddock"
