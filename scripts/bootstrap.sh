#!/usr/bin/env bash
# Installs every build and test dependency of s3db from Debian 12 packages.
# Idempotent and quiet when everything is already present.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config clang-format
  ccache  # scripts/test.sh: the package build reuses the default build's objects
  clang libclang-rt-14-dev  # the libFuzzer targets (scripts/fuzz.sh)
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libpugixml-dev libcli11-dev libfmt-dev
  libre2-dev libtomlplusplus-dev zlib1g-dev
  libboost-dev  # Boost.Asio (header-only): bench/latency_proxy.cc, s3db serve
  libgtest-dev libgmock-dev libbenchmark-dev
  curl ceph-mon ceph-osd radosgw
  dpkg-dev file
  awscli zsh
  redis-server libhiredis-dev
  chromium  # the web console's browser tests (tests/serve/console/), driven headless
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
