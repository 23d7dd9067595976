#!/usr/bin/env bash
# Checks that every C++ file is formatted as .clang-format says (`--fix` rewrites them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
mapfile -t files < <(git ls-files '*.h' '*.cc')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/s3db-format.$$; then
  head -40 /tmp/s3db-format.$$ >&2
  rm -f /tmp/s3db-format.$$
  echo "check-format: run scripts/check-format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/s3db-format.$$
echo "check-format: ${#files[@]} files formatted" >&2
