#!/usr/bin/env bash
# The side-by-side run of issue 9, in one go: for each concurrency, the bare-request ceiling
# (bench/raw_bench.cc), s3db (`s3db bench`) and s3db.js (bench/peer) against the same URI,
# one after the other, then the combined table (bench/table.mjs) on stdout.
#
#   bench/compare.sh URI [N] [CONCURRENCY...]      # default N 1000, concurrencies 1 32
#
# $S3DB_BENCH_IMPLS picks the implementations (default "raw s3db s3db.js"; "raw s3db" for a
# ceiling run with a larger N; "before s3db" with $S3DB_BENCH_BEFORE naming an earlier build's
# s3db binary, for a table of this build against that one). $S3DB_BENCH_ROUNDS rounds (default 3) each run all three at every concurrency, so slow
# minutes of a shared machine hit every implementation alike; the table shows each figure's
# median over the rounds. Needs `cmake --build --preset default` and
# `bash bench/peer/install.sh` first. The JSON lines are kept in $S3DB_BENCH_OUT (default
# build/bench/compare-<time>.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/compare.sh URI [N] [CONCURRENCY...]" >&2; exit 2; }
uri=$1
n=${2:-1000}
shift $(( $# >= 2 ? 2 : 1 ))
concurrencies=("$@")
[ ${#concurrencies[@]} -gt 0 ] || concurrencies=(1 32)

for tool in build/default/s3db build/default/bench/s3db_raw_bench; do
  [ -x "$tool" ] || { echo "compare: $tool is missing: cmake --build --preset default" >&2; exit 2; }
done
[[ " ${S3DB_BENCH_IMPLS:-s3db.js} " != *" s3db.js "* ]] || [ -d bench/peer/node_modules/s3db.js ] || { echo "compare: s3db.js is missing: bash bench/peer/install.sh" >&2; exit 2; }

out=${S3DB_BENCH_OUT:-build/bench/compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
mkdir -p "$(dirname "$out")"
: > "$out"
rounds=${S3DB_BENCH_ROUNDS:-3}
impls=${S3DB_BENCH_IMPLS:-raw s3db s3db.js}
for round in $(seq "$rounds"); do
  for c in "${concurrencies[@]}"; do
    for impl in $impls; do
      echo "compare: round $round/$rounds, concurrency $c: $impl" >&2
      case $impl in
        raw) build/default/bench/s3db_raw_bench --uri "$uri" --n "$n" --concurrency "$c" ;;
        s3db) build/default/s3db --uri "$uri" --concurrency "$c" bench --n "$n" --json ;;
        s3db.js) node bench/peer/bench.mjs --uri "$uri" --n "$n" --concurrency "$c" ;;
        before)  # an earlier build of s3db ($S3DB_BENCH_BEFORE), for a before/after table
          "${S3DB_BENCH_BEFORE:?before: set S3DB_BENCH_BEFORE to the earlier s3db binary}" --uri "$uri" \
            --concurrency "$c" bench --n "$n" --json | sed 's/"impl":"s3db"/"impl":"before"/' ;;
        *) echo "compare: unknown implementation '$impl' in S3DB_BENCH_IMPLS" >&2; exit 2 ;;
      esac >> "$out"
    done
  done
done
echo "compare: results in $out" >&2
node bench/table.mjs "$out"
