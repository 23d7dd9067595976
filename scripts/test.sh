#!/usr/bin/env bash
# Sets up, builds and runs every test: `scripts/test.sh [PRESET...]` (default: default), then
# with the default preset also scripts/check-install.sh (install, consumer, .deb).
# Presets: default, asan (AddressSanitizer + UndefinedBehaviorSanitizer), tsan.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

# The S3 tests run against a real S3 server: Ceph RGW on loopback (docs/TESTING.md).
# A given S3DB_TEST_S3_URI is used as it is; an RGW already started by hand is reused and
# left running; otherwise one is started here, with STS (S3DB_RGW_STS=1, for the AssumeRole
# tests), and stopped on exit. S3DB_TEST_RGW=0: none.
# What was started here is stopped on exit, however the run ends.
stop_on_exit=()
trap 'for c in "${stop_on_exit[@]}"; do scripts/$c stop || true; done' EXIT
if [ -z "${S3DB_TEST_S3_URI:-}" ] && [ "${S3DB_TEST_RGW:-1}" != 0 ]; then
  if scripts/rgw.sh status 2>/dev/null; then
    rgw_env=$(scripts/rgw.sh env)
  else
    stop_on_exit+=(rgw.sh)
    rgw_env=$(S3DB_RGW_STS=${S3DB_RGW_STS:-1} scripts/rgw.sh start)
  fi
  eval "$rgw_env"
fi

# The redis cache driver's tests run against a real redis-server on loopback, started the same
# way: a given S3DB_TEST_REDIS_URI is used as it is, one started by hand is reused and left
# running, else one is started here and stopped on exit. S3DB_TEST_REDIS=0: none.
if [ -z "${S3DB_TEST_REDIS_URI:-}" ] && [ "${S3DB_TEST_REDIS:-1}" != 0 ]; then
  if scripts/redis.sh status 2>/dev/null; then
    redis_env=$(scripts/redis.sh env)
  else
    stop_on_exit+=(redis.sh)
    redis_env=$(scripts/redis.sh start)
  fi
  eval "$redis_env"
fi

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(default)
jobs=$(nproc)
for preset in "${presets[@]}"; do
  echo "== $preset: configure and build" >&2
  cmake --preset "$preset" -DS3DB_WERROR=ON >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test" >&2
  ctest --preset "$preset" -j "$jobs"
done

# Installed, packaged and used from outside as docs/INSTALL.md says (once, on the default build).
for preset in "${presets[@]}"; do
  if [ "$preset" = default ]; then
    echo "== install and package" >&2
    scripts/check-install.sh build/default
  fi
done
