#!/usr/bin/env bash
# Scans at LIST cost, side by side with s3db.js (issue 24): count, query and export of the
# same N records at a distance (bench/latency_proxy.cc holds every answer DELAY_MS ± JITTER_MS),
# by s3db.js, by s3db without a snapshot, with a fresh one (`s3db compact`) and with 1% of the
# records changed since. Prints a markdown table; the JSON lines go to $S3DB_BENCH_OUT
# (default build/bench/snapshot-compare-<time>.jsonl).
#
#   bench/snapshot_compare.sh URI [N] [DELAY_MS] [JITTER_MS] [CONCURRENCY]
#                                     (defaults 20000 20 5 32)
#
# URI: http://KEY:SECRET@HOST:PORT/bucket (scripts/rgw.sh env prints one as S3DB_TEST_S3_URI).
# The data (not timed, straight to URI, not through the proxy):
#  1. s3db.js writes records 0..N-1 of bench/peer's generator under the prefix
#     $S3DB_SNAPSHOT_JS_PREFIX (default peer-snapshot-N; skipped when it already holds N
#     records, so a slow load is paid once) with `bench.mjs --workload load`;
#  2. `s3db migrate from-s3dbjs` copies them under <that prefix>-s3db-<time>-<pid>: the
#     same records (ids, fields, timestamps) in s3db's format, the only way s3db reads
#     s3db.js's data.
# Then, through the proxy, each at CONCURRENCY: s3db.js (`bench.mjs --workload scan`: count(),
# query({active:true}), getAll() written as JSON lines); s3db's `count`, `query` and
# `export` as separate processes with --costs (the time is the process's, connect included);
# `compact`; the three again; 1% of the records (every 100th, a new age) upserted straight to
# URI; the three again; `compact` again. The s3db copy is dropped at the end unless
# $S3DB_SNAPSHOT_KEEP is set (its catalog and migration checkpoint, two small objects, stay);
# the s3db.js data is kept for the next run.
# Requests are each tool's own count (s3db: CostsPlugin, beneath the retries; s3db.js: the
# AWS SDK's request handler, bench/peer/README.md "How S3 requests are counted").
# Needs `ninja -C build/default s3db_cli s3db_latency_proxy` and `bash bench/peer/install.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/snapshot_compare.sh URI [N] [DELAY_MS] [JITTER_MS] [CONCURRENCY]" >&2; exit 2; }
uri=${1%/} n=${2:-20000} delay=${3:-20} jitter=${4:-5} c=${5:-32}
s3db=${S3DB_BENCH_S3DB:-build/default/s3db}
proxy=${S3DB_BENCH_PROXY:-build/default/bench/s3db_latency_proxy}
for tool in "$s3db" "$proxy"; do
  [ -x "$tool" ] || { echo "snapshot_compare: $tool is missing: ninja -C build/default s3db_cli s3db_latency_proxy" >&2; exit 2; }
done
[ -d bench/peer/node_modules/s3db.js ] || { echo "snapshot_compare: s3db.js is missing: bash bench/peer/install.sh" >&2; exit 2; }
hostport=$(sed -n 's|^https\?://\([^@/]*@\)\?\([^/]*\).*|\2|p' <<< "$uri")
[ -n "$hostport" ] || { echo "snapshot_compare: cannot find HOST:PORT in the URI" >&2; exit 2; }
js_prefix=${S3DB_SNAPSHOT_JS_PREFIX:-peer-snapshot-$n}
# A prefix of its own each run: a migration checkpoint left there would make migrate resume.
ours_prefix=$js_prefix-s3db-$(date +%s)-$$
out=${S3DB_BENCH_OUT:-build/bench/snapshot-compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
mkdir -p "$(dirname "$out")"
: > "$out"
work=$(mktemp -d)
log() { echo "snapshot_compare: $*" >&2; }
load() { cut -d' ' -f1 /proc/loadavg; }

"$proxy" --upstream "$hostport" --delay-ms "$delay" --jitter-ms "$jitter" > "$work/proxy.log" 2>&1 &
proxy_pid=$!
cleanup() {
  kill "$proxy_pid" 2>/dev/null || true
  if [ -z "${S3DB_SNAPSHOT_KEEP:-}" ]; then
    "$s3db" --uri "$uri/$ours_prefix" resource drop users > /dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do grep -q '^listening on' "$work/proxy.log" && break; sleep 0.1; done
listen=$(sed -n 's/^listening on //p' "$work/proxy.log")
[ -n "$listen" ] || { log "the proxy did not start:"; cat "$work/proxy.log" >&2; exit 1; }
far=${uri/$hostport/$listen}
log "$hostport answers ${delay} ± ${jitter} ms late through $listen; N = $n, concurrency $c"

# 1. s3db.js's data, once: s3db.js's own count() says whether an earlier run wrote it.
js_have=$(node bench/peer/bench.mjs --uri "$uri" --prefix "$js_prefix" --n "$n" --concurrency "$c" --workload scan \
  --steps count 2> /dev/null | sed -n 's/.*"count_records":\([0-9]*\).*/\1/p' || true)
if [ "$js_have" != "$n" ]; then
  [ -z "$js_have" ] || [ "$js_have" = 0 ] || { log "$js_prefix holds $js_have records, not $n: remove it or set S3DB_SNAPSHOT_JS_PREFIX"; exit 1; }
  log "s3db.js writes $n records under $js_prefix (not timed here; s3db.js inserts slowly)"
  node bench/peer/bench.mjs --uri "$uri" --prefix "$js_prefix" --n "$n" --concurrency "$c" --workload load > "$work/load.json"
fi
# 2. The same records in s3db's format, a fresh copy each run (so "none" has no snapshot).
log "s3db migrate from-s3dbjs: $js_prefix -> $ours_prefix"
"$s3db" migrate from-s3dbjs --from "$uri/$js_prefix" --to "$uri/$ours_prefix" --resources users --parallel "$c" \
  --errors "$work/migrate-errors.jsonl" > "$work/migrate.json"
[ "$("$s3db" --uri "$uri/$ours_prefix" count users)" = "$n" ] || { log "the migrated copy does not hold $n records"; exit 1; }

active=$(( n - (n + 2) / 3 ))
# One s3db command through the proxy: its time, its requests (--costs), what it returned.
ours() {
  local state=$1 op=$2 want=$3
  shift 3
  local start end secs got requests
  start=$(date +%s.%N)
  "$s3db" --uri "$far/$ours_prefix" --concurrency "$c" --costs "$@" > "$work/stdout" 2> "$work/stderr" ||
    { log "s3db $* failed:"; cat "$work/stderr" >&2; exit 1; }
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  case $op in
    count) got=$(cat "$work/stdout") ;;
    compact) got=$(sed -n 's/.*"records":\([0-9]*\).*/\1/p' "$work/stdout") ;;
    *) got=$(wc -l < "$work/stdout") ;;
  esac
  [ "$got" = "$want" ] || { log "s3db $op ($state) returned $got records, not $want"; exit 1; }
  requests=$(sed -n 's/^costs: .*"total":\([0-9]*\)}.*/\1/p' "$work/stderr")
  echo "{\"impl\":\"s3db\",\"snapshot\":\"$state\",\"op\":\"$op\",\"records\":$got,\"n\":$n,\"seconds\":$secs,\"requests\":$requests,\"costs\":$(sed -n 's/^costs: //p' "$work/stderr"),\"load\":$(load)}" >> "$out"
  log "s3db $op ($state): $secs s, $requests requests, load $(load)"
}
scans() {
  ours "$1" count "$n" count users
  ours "$1" query "$active" query users '{"active": true}'
  ours "$1" export "$n" export users
}

log "s3db.js: count, query, export (getAll) through the proxy"
node bench/peer/bench.mjs --uri "$far" --prefix "$js_prefix" --n "$n" --concurrency "$c" --workload scan > "$work/js.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const want = { count: r.n, query: Number(process.argv[3]), export: r.n };
  for (const op of ["count", "query", "export"]) {
    console.log(JSON.stringify({ impl: "s3db.js", snapshot: "(none)", op, records: want[op], n: r.n,
      seconds: r[op + "_seconds"], requests: r[op + "_requests"], by_type: r.requests_by_type[op],
      cpu_s: r[op + "_cpu_s"], load: Number(process.argv[2]) }));
  }' "$work/js.json" "$(load)" "$active" >> "$out"

scans none
ours none compact "$n" compact users
scans fresh
log "1% of the records changed (every 100th gets a new age), straight to the server"
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i += 100) printf "{\"id\":\"u%06d\",\"age\":%d}\n", i, 90 + i % 7 }' > "$work/changes.jsonl"
"$s3db" --uri "$uri/$ours_prefix" --concurrency "$c" import users "$work/changes.jsonl" --upsert 2> /dev/null
scans "1% changed"
ours "1% changed" compact "$n" compact users
log "results in $out"

node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const fmt = (x, d = 0) => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  const js = Object.fromEntries(rows.filter((r) => r.impl === "s3db.js").map((r) => [r.op, r]));
  console.log("| implementation | snapshot | op | records | seconds | records/s | requests | requests / 1,000 records | s3db.js seconds ÷ this | load |");
  console.log("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const vs = js[r.op] && r.impl !== "s3db.js" ? fmt(js[r.op].seconds / r.seconds, 1) + "x" : "–";
    console.log(`| ${r.impl} | ${r.snapshot} | ${r.op} | ${fmt(r.records)} | ${fmt(r.seconds, 2)} | ${fmt(r.records / r.seconds)} | ` +
      `${fmt(r.requests)} | ${fmt(r.requests / r.n * 1000, 2)} | ${vs} | ${r.load} |`);
  }' "$out"
