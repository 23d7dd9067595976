#!/usr/bin/env bash
# Issue 19's benchmark in one go: cached `get` with the redis driver against uncached `get`,
# for s3db (`s3db bench --workload cached-get`) and s3db.js (bench/peer, CachePlugin with its
# redis driver on ioredis), on the same S3 URI and the same Redis, then the table
# (bench/cache_table.mjs) on stdout.
#
#   bench/cache_compare.sh S3_URI REDIS_URI [N] [CONCURRENCY...]   # default N 1000, 1 32
#
# REDIS_URI is redis://[user:password@]host:port[/db] (scripts/redis.sh env prints one as
# S3DB_TEST_REDIS_URI). $S3DB_BENCH_ROUNDS rounds (default 3), each running both
# implementations at every concurrency, so slow minutes of a shared machine hit both alike;
# the table shows medians. Needs `ninja -C build/default s3db_cli` and
# `bash bench/peer/install.sh` first. The JSON lines are kept in $S3DB_BENCH_OUT (default
# build/bench/cache-<time>.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/cache_compare.sh S3_URI REDIS_URI [N] [CONCURRENCY...]" >&2; exit 2; }
uri=$1
redis=$2
n=${3:-1000}
shift $(( $# >= 3 ? 3 : 2 ))
concurrencies=("$@")
[ ${#concurrencies[@]} -gt 0 ] || concurrencies=(1 32)

[ -x build/default/s3db ] || { echo "cache_compare: build/default/s3db is missing: ninja -C build/default s3db_cli" >&2; exit 2; }
[ -d bench/peer/node_modules/ioredis ] || { echo "cache_compare: s3db.js or ioredis is missing: bash bench/peer/install.sh" >&2; exit 2; }

out=${S3DB_BENCH_OUT:-build/bench/cache-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
mkdir -p "$(dirname "$out")"
: > "$out"
rounds=${S3DB_BENCH_ROUNDS:-3}
for round in $(seq "$rounds"); do
  for c in "${concurrencies[@]}"; do
    echo "cache_compare: round $round/$rounds, concurrency $c: s3db" >&2
    build/default/s3db --uri "$uri" --concurrency "$c" --cache "$redis" --cache-ttl 10m \
      bench --workload cached-get --n "$n" --json >> "$out"
    echo "cache_compare: round $round/$rounds, concurrency $c: s3db.js" >&2
    node bench/peer/bench.mjs --uri "$uri" --n "$n" --concurrency "$c" --workload cached-get --redis "$redis" >> "$out"
  done
done
echo "cache_compare: results in $out" >&2
node bench/cache_table.mjs "$out"
