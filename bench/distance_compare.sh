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
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: bench/distance_compare.sh URI DELAY_MS JITTER_MS [N] [CONCURRENCY...]" >&2; exit 2; }
uri=$1 delay=$2 jitter=$3
shift 3
proxy=build/default/bench/s3db_latency_proxy
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
bench/compare.sh "${uri/$hostport/$listen}" "$@"
