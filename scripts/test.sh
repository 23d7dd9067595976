#!/usr/bin/env bash
# Sets up, builds and runs every test: `scripts/test.sh [PRESET...]` (default: default).
# Presets: default, asan (AddressSanitizer + UndefinedBehaviorSanitizer), tsan.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
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
