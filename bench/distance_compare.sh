#!/usr/bin/env bash
# S3 at a distance (issue 21): bench/compare.sh run through bench/latency_proxy.cc, so every
# answer of the S3 server comes DELAY_MS ± JITTER_MS late, as from a bucket in another region.
#
#   bench/distance_compare.sh URI DELAY_MS JITTER_MS [N] [CONCURRENCY...]
#
# URI is an http://KEY:SECRET@HOST:PORT/bucket URI (scripts/rgw.sh env prints one as
# S3DB_TEST_S3_URI). The proxy listens on a loopback port the kernel picks; the URI given to
# compare.sh is URI with HOST:PORT replaced by the proxy's. $S3DB_BENCH_IMPLS and
# $S3DB_BENCH_ROUNDS pass through to compare.sh. Needs `ninja -C build/default s3db_cli
# s3db_raw_bench s3db_latency_proxy` and `bash bench/peer/install.sh`.
#
# S3DB_DISTANCE_WORKLOAD=bulk runs the bulk calls instead (issue 21's open benchmark), once
# per concurrency, s3db.js then s3db, each on a fresh prefix it removes afterwards:
#   s3db.js: `bench/peer/bench.mjs --workload bulk` (insertMany, getMany, getAll, export as
#            getAll written as JSON lines, count, query({active:true})), one process; CPU,
#            peak threads and RSS measured by the process itself per step;
#   s3db:    the CLI, one process per step, each measured from outside (/usr/bin/time for CPU
#            and peak RSS, /proc/PID/status sampled every 50 ms for threads), the time the
#            process's own, connect included: `import` of the same N records (the insertMany),
#            `list` (getAll), `export`, `count`, `query '{"active": true}'`. No CLI command
#            reads a list of ids (`s3db bench` has a getMany step), so that row is s3db.js's.
# Both use s3db.js's definition of `users` (password a plain string, timestamps, byCountry).
# Requests are each tool's own count (--costs; bench/peer's request handler), per record of
# the resource (N; for query too, which reads them all). Peak threads: null when the process
# ended before the first sample. $S3DB_BENCH_IMPLS ("s3db.js s3db") picks who runs. Prints a
# markdown table; the JSON lines go to $S3DB_BENCH_OUT (default
# build/bench/distance-bulk-<time>.jsonl). $S3DB_BENCH_S3DB names another s3db binary.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: bench/distance_compare.sh URI DELAY_MS JITTER_MS [N] [CONCURRENCY...]" >&2; exit 2; }
uri=$1 delay=$2 jitter=$3
shift 3
proxy=${S3DB_BENCH_PROXY:-build/default/bench/s3db_latency_proxy}
[ -x "$proxy" ] || { echo "distance_compare: $proxy is missing: ninja -C build/default s3db_latency_proxy" >&2; exit 2; }
hostport=$(sed -n 's|^https\?://\([^@/]*@\)\?\([^/]*\).*|\2|p' <<< "$uri")
[ -n "$hostport" ] || { echo "distance_compare: cannot find HOST:PORT in the URI" >&2; exit 2; }

log=$(mktemp)
"$proxy" --upstream "$hostport" --delay-ms "$delay" --jitter-ms "$jitter" > "$log" 2>&1 &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q '^listening on' "$log" && break; sleep 0.1; done
listen=$(sed -n 's/^listening on //p' "$log")
[ -n "$listen" ] || { echo "distance_compare: the proxy did not start:" >&2; cat "$log" >&2; exit 1; }
echo "distance_compare: $hostport answers ${delay} ± ${jitter} ms late through $listen" >&2
far=${uri/$hostport/$listen}
if [ "${S3DB_DISTANCE_WORKLOAD:-crud}" != bulk ]; then
  bench/compare.sh "$far" "$@"
  exit
fi

# ---------------------------------------------------------------- the bulk calls
n=${1:-1000}
shift $(( $# >= 1 ? 1 : 0 ))
concurrencies=("$@")
[ ${#concurrencies[@]} -gt 0 ] || concurrencies=(32 256)
s3db=${S3DB_BENCH_S3DB:-build/default/s3db}
[ -x "$s3db" ] || { echo "distance_compare: $s3db is missing: ninja -C build/default s3db_cli" >&2; exit 2; }
[ -d bench/peer/node_modules/s3db.js ] || { echo "distance_compare: s3db.js is missing: bash bench/peer/install.sh" >&2; exit 2; }
out=${S3DB_BENCH_OUT:-build/bench/distance-bulk-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
mkdir -p "$(dirname "$out")"
: > "$out"
work=$(mktemp -d)
trap 'kill $proxy_pid 2>/dev/null; rm -f "$log"; rm -rf "$work"' EXIT
cat > "$work/users.json" <<'JSON'
{"attributes": {"name": "string|required", "email": "email|required", "age": "number|required",
  "active": "boolean|required", "tags": "array|items:string|optional",
  "address": {"city": "string|required", "country": "string|required"},
  "password": "string|required", "bio": "string|optional"},
 "timestamps": true, "partitions": {"byCountry": {"fields": {"address.country": "string"}}}}
JSON
node bench/peer/data.mjs "$n" > "$work/records.jsonl"
active=$(( n - (n + 2) / 3 ))

# One s3db command, measured from outside: prints a JSON line into $out.
measure() {
  local c=$1 step=$2 want=$3 prefix=$4
  shift 4
  local start end pid child threads=0 t
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S %M' -o "$work/time" "$s3db" --uri "$far/$prefix" --concurrency "$c" --costs "$@" \
    > "$work/stdout" 2> "$work/stderr" &
  pid=$!
  while kill -0 "$pid" 2> /dev/null; do
    child=$(pgrep -P "$pid" | head -1 || true)
    if [ -n "$child" ]; then
      t=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$child/status" 2> /dev/null || true)
      [ -n "$t" ] && [ "$t" -gt "$threads" ] && threads=$t
    fi
    sleep 0.05
  done
  wait "$pid" || { echo "distance_compare: s3db $* failed:" >&2; cat "$work/stderr" >&2; exit 1; }
  end=$(date +%s.%N)
  local got
  case $step in
    count) got=$(cat "$work/stdout") ;;
    insertMany) got=$(sed -n 's/.*imported \([0-9]*\), failed 0.*/\1/p' "$work/stderr") ;;
    *) got=$(wc -l < "$work/stdout") ;;
  esac
  [ "$got" = "$want" ] || { echo "distance_compare: s3db $step gave $got records, not $want" >&2; exit 1; }
  read -r user sys rss_kb < "$work/time"
  echo "{\"impl\":\"s3db\",\"concurrency\":$c,\"n\":$n,\"step\":\"$step\",\"records\":$got,\"seconds\":$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'),\"requests\":$(sed -n 's/^costs: .*"total":\([0-9]*\)}.*/\1/p' "$work/stderr"),\"cpu_s\":$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }'),\"peak_rss_mb\":$(( rss_kb / 1024 )),\"peak_threads\":$( [ "$threads" -gt 0 ] && echo "$threads" || echo null),\"load\":$(cut -d' ' -f1 /proc/loadavg)}" >> "$out"
  echo "distance_compare: s3db $step at $c: $(tail -1 "$out")" >&2
}

impls=" ${S3DB_BENCH_IMPLS:-s3db.js s3db} "
for c in "${concurrencies[@]}"; do
  if [[ $impls == *" s3db.js "* ]]; then
    echo "distance_compare: concurrency $c: s3db.js" >&2
    node bench/peer/bench.mjs --uri "$far" --n "$n" --concurrency "$c" --workload bulk > "$work/js.json" || true
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      if (r.errors) console.error(`distance_compare: s3db.js reported ${r.errors} errors`);
      for (const step of ["insertMany", "getMany", "getAll", "export", "count", "query"]) {
        if (r[step + "_seconds"] === undefined) continue;
        console.log(JSON.stringify({ impl: "s3db.js", concurrency: r.concurrency, n: r.n, step,
          records: r[step + "_records"], seconds: r[step + "_seconds"], requests: r[step + "_requests"],
          cpu_s: r[step + "_cpu_s"], peak_rss_mb: r[step + "_peak_rss_mb"], peak_threads: r[step + "_peak_threads"],
          load: Number(process.argv[2]) }));
      }' "$work/js.json" "$(cut -d' ' -f1 /proc/loadavg)" >> "$out"
  fi
  [[ $impls == *" s3db "* ]] || continue
  echo "distance_compare: concurrency $c: s3db" >&2
  prefix=bench-bulk-$(date +%s)-$$
  "$s3db" --uri "$uri/$prefix" resource create users --schema "$work/users.json" > /dev/null
  measure "$c" insertMany "$n" "$prefix" import users "$work/records.jsonl"
  measure "$c" getAll "$n" "$prefix" list users
  measure "$c" export "$n" "$prefix" export users
  measure "$c" count "$n" "$prefix" count users
  measure "$c" query "$active" "$prefix" query users '{"active": true}'
  "$s3db" --uri "$uri/$prefix" resource drop users > /dev/null
done
echo "distance_compare: results in $out" >&2
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const f = (x, d = 0) => x === undefined || x === null ? "–" : x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  console.log("| C | step | impl | records | seconds | records/s | requests / record of N | client CPU s | peak RSS MB | peak threads | load |");
  console.log("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.concurrency} | ${r.step} | ${r.impl} | ${f(r.records)} | ${f(r.seconds, 2)} | ${f(r.records / r.seconds)} | ` +
      `${f(r.requests / r.n, 3)} | ${f(r.cpu_s, 2)} | ${f(r.peak_rss_mb)} | ${f(r.peak_threads)} | ${r.load} |`);
  }' "$out"
