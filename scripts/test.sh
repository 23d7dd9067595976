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

# The s3dbjs tests drive the real s3db.js (the reference implementation) through node to
# write the buckets `s3db migrate from-s3dbjs` reads: bench/peer/install.sh installs it (and
# node where it can), doing nothing when it is already in place.
bash bench/peer/install.sh
# The web console's tests drive Debian's chromium (bootstrap installs it) with playwright-core,
# installed here from the pinned lock, never with a browser of its own.
bash tests/serve/console/install.sh

# Compiled through ccache where it is installed (bootstrap installs it): the package build of
# scripts/check-install.sh compiles the same sources with the same flags as the default build,
# so it takes them from the cache. The paths are hashed relative to the checkout and without
# the build folder's name, which differs between the two. Read by cmake on a first configure.
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
fi

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(default)
jobs=$(nproc)
# ThreadSanitizer runs the layers where threads meet (docs/TESTING.md, "ThreadSanitizer"):
# the executor, the S3 transport and credential refresh, the plugins and caches, the
# indexes, and the database's concurrency tests. The single-threaded layers (codecs, schema,
# the CLI's own process tests) gain nothing from it and would double its build.
tsan_labels='exec|s3|plugins|index|database'
tsan_targets=(exec_tests s3_tests plugins_tests index_tests database_tests)
for preset in "${presets[@]}"; do
  echo "== $preset: configure and build" >&2
  # A unity build: the sources of a target compiled in batches of 8, so the headers (gtest,
  # nlohmann, the library's) are parsed once a batch; a full build takes a third of the time.
  # The sanitizer builds with line tables only (-g1): a report still names file and line, and
  # the build takes a quarter less time (docs/TESTING.md).
  debug_info=()
  if [ "$preset" = asan ] || [ "$preset" = tsan ]; then debug_info=(-DCMAKE_CXX_FLAGS_DEBUG=-g1); fi
  # The default build compiles the tests' own code (not the library) without optimisation or debug
  # information: 2.6x faster to compile, and the tests spend their time in the library.
  test_code_flags=()
  if [ "$preset" = default ]; then test_code_flags=(-DS3DB_TEST_CODE_FLAGS="-O0;-g0"); fi
  cmake --preset "$preset" -DS3DB_WERROR=ON -DCMAKE_UNITY_BUILD=ON "${debug_info[@]}" "${test_code_flags[@]}" >/dev/null
  if [ "$preset" = tsan ]; then
    cmake --build --preset "$preset" -j "$jobs" --target "${tsan_targets[@]}"
    echo "== $preset: test (labels $tsan_labels)" >&2
    ctest --preset "$preset" -j "$jobs" -L "$tsan_labels" -LE '^(cli|crash)$'
  elif [ "$preset" = asan ]; then
    cmake --build --preset "$preset" -j "$jobs"
    # The CLI's second pass on S3 (the cases named .../on_s3) runs in the default build: the
    # code under it is the library's S3 path, which the s3 and database tests run here.
    echo "== $preset: test (all but the CLI suite's S3 pass)" >&2
    ctest --preset "$preset" -j "$jobs" -E '/on_s3$'
  else
    cmake --build --preset "$preset" -j "$jobs"
    echo "== $preset: test" >&2
    ctest --preset "$preset" -j "$jobs"
  fi
done

# Installed, packaged and used from outside as docs/INSTALL.md says (once, on the default build).
for preset in "${presets[@]}"; do
  if [ "$preset" = default ]; then
    echo "== install and package" >&2
    scripts/check-install.sh build/default
  fi
done
