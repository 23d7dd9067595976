#!/usr/bin/env bash
# `s3db serve` against the library called in-process (issue 22), side by side in one run:
# for each store and each number of connections, GET /v1/users/{id} and POST /v1/users
# through the server, loaded by wrk (Debian's `wrk`), then `s3db bench`'s get and insert
# steps at the same concurrency in-process on the same kind of store, then the table
# (bench/serve_table.mjs) on stdout.
#
#   bench/serve_compare.sh [STORE_URI...]
#
# Default stores: memory://servebench and, when $S3DB_TEST_S3_URI is set (eval "$(scripts/rgw.sh
# env)"), that S3 server. Each run gets a fresh key prefix (an S3 URI's path; a memory
# store is the server's own process), and the resource is dropped at the end.
# $S3DB_SERVE_CONNECTIONS (default "1 32 256"), $S3DB_SERVE_SECONDS per wrk run (default 10),
# $S3DB_SERVE_N_MEMORY / $S3DB_SERVE_N_S3 records for the in-process run (20000 / 2000), and
# $S3DB_SERVE_ROUNDS (default 1). The server runs with --workers C and --concurrency C, as
# the in-process run has C threads and --concurrency C. s3db.js's ApiPlugin is not in the
# table: it does not install from npm (BENCHMARKS.md, "s3db serve"). JSON lines are kept in
# $S3DB_SERVE_OUT (default build/bench/serve-<time>.jsonl). Needs build/default/s3db, or the
# s3db binary $S3DB_BIN names.
set -euo pipefail
cd "$(dirname "$0")/.."
s3db=${S3DB_BIN:-build/default/s3db}
[ -x "$s3db" ] || { echo "serve_compare: $s3db is missing: cmake --build --preset default --target s3db_cli" >&2; exit 2; }
command -v wrk >/dev/null || { echo "serve_compare: wrk is missing (Debian: apt-get install wrk)" >&2; exit 2; }
command -v node >/dev/null || { echo "serve_compare: node is missing (for the table)" >&2; exit 2; }

stores=("$@")
if [ ${#stores[@]} -eq 0 ]; then
  stores=(memory://servebench)
  [ -z "${S3DB_TEST_S3_URI:-}" ] || stores+=("$S3DB_TEST_S3_URI")
fi
read -r -a connections <<< "${S3DB_SERVE_CONNECTIONS:-1 32 256}"
seconds=${S3DB_SERVE_SECONDS:-10}
rounds=${S3DB_SERVE_ROUNDS:-1}
out=${S3DB_SERVE_OUT:-build/bench/serve-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
mkdir -p "$(dirname "$out")"
: > "$out"
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# The workload's password is a secret field: server and in-process run use `s3db bench`'s key.
export S3DB_PASSPHRASE="s3db bench passphrase"
users_definition='{"name":"users","timestamps":true,
  "attributes":{"name":"string|min:2|max:100","email":"email","age":"number|integer|min:0","active":"boolean",
    "tags":"array|items:string","bio":"string|optional","address":{"city":"string","country":"string"},
    "password":"secret"},
  "partitions":{"byCountry":{"fields":{"address.country":"string"}}}}'

# Masks the secret of an S3 URI (user:secret@) for the JSON lines.
masked() { sed -E 's#(//[^:/@]+):[^@]*@#\1:***@#' <<< "$1"; }
load() { cut -d' ' -f1 /proc/loadavg; }
# One JSON line from `wrk` (bench/serve_load.lua's done()), tagged.
wrk_run() {
  local mode=$1 c=$2 base=$3 store=$4
  local threads=$(( c < 2 ? c : 2 ))
  local before
  before=$(load)
  S3DB_SERVE_MODE=$mode S3DB_SERVE_IDS_FILE="$work/ids" S3DB_SERVE_CONNECTIONS=$c \
    wrk -t "$threads" -c "$c" -d "${seconds}s" --timeout 30s -s bench/serve_load.lua "$base" > "$work/wrk.out"
  local line
  line=$(grep '^{"mode"' "$work/wrk.out") || { cat "$work/wrk.out" >&2; return 1; }
  echo "${line%\}},\"impl\":\"served\",\"store\":\"$(masked "$store")\",\"connections\":$c,\"load_before\":$before,\"load_after\":$(load)}"
}

for round in $(seq "$rounds"); do
  for store in "${stores[@]}"; do
    case $store in
      memory://*) n=${S3DB_SERVE_N_MEMORY:-20000} ;;
      *) n=${S3DB_SERVE_N_S3:-2000} ;;
    esac
    for c in "${connections[@]}"; do
      tag="servebench-$(date -u +%H%M%S)-$RANDOM-c$c"
      case $store in
        memory://*) uri="memory://$tag" ;;
        *) uri="${store%/}/$tag" ;;
      esac
      echo "serve_compare: round $round/$rounds, $(masked "$store"), $c connections: served" >&2
      "$s3db" --uri "$uri" --concurrency "$c" serve --listen 127.0.0.1:0 --workers "$c" > "$work/serve.out" 2> "$work/serve.err" &
      server_pid=$!
      base=
      for _ in $(seq 100); do
        base=$(grep -o '"listening":"[^"]*"' "$work/serve.out" 2>/dev/null | cut -d'"' -f4) && [ -n "$base" ] && break
        sleep 0.1
      done
      [ -n "$base" ] || { echo "serve_compare: the server did not start:" >&2; cat "$work/serve.err" >&2; exit 1; }
      curl -sf -X POST "$base/v1/resources" -d "$users_definition" > /dev/null
      wrk_run post "$c" "$base" "$store" >> "$out"
      wrk_run get "$c" "$base" "$store" >> "$out"
      curl -sf -X DELETE "$base/v1/resources/users" > /dev/null || echo "serve_compare: could not drop users under $tag" >&2
      kill "$server_pid"
      wait "$server_pid" || true
      server_pid=
      echo "serve_compare: round $round/$rounds, $(masked "$store"), concurrency $c: in-process" >&2
      before=$(load)
      line=$("$s3db" --uri "$uri" --concurrency "$c" bench --n "$n" --json)
      line=${line/\"impl\":\"s3db\",/}
      echo "${line%\}},\"impl\":\"in-process\",\"store\":\"$(masked "$store")\",\"connections\":$c,\"load_before\":$before,\"load_after\":$(load)}" >> "$out"
    done
  done
done
echo "serve_compare: results in $out" >&2
node bench/serve_table.mjs "$out"
