#!/usr/bin/env bash
# ctest latency_proxy_check: s3db_latency_proxy in front of a throwaway HTTP server (Python's
# http.server on a kernel-picked loopback port) passes answers through byte for byte, and
# holds each answer for at least its delay.
#
#   bench/latency_proxy_check.sh PATH/TO/s3db_latency_proxy
set -euo pipefail
proxy=$1
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

head -c 3000000 /dev/urandom > "$work/blob"
( cd "$work" && exec python3 -u -m http.server 0 --bind 127.0.0.1 > "$work/server.log" 2>&1 ) &
pids+=($!)
for _ in $(seq 100); do grep -q 'port [0-9]' "$work/server.log" && break; sleep 0.1; done
server_port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$work/server.log" | head -1)
[ -n "$server_port" ] || { echo "FAIL: the HTTP server did not start"; cat "$work/server.log"; exit 1; }

"$proxy" --upstream "127.0.0.1:$server_port" --delay-ms 200 --jitter-ms 20 > "$work/proxy.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$work/proxy.out" && break; sleep 0.1; done
proxy_port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/proxy.out")
[ -n "$proxy_port" ] || { echo "FAIL: the proxy did not say where it listens"; cat "$work/proxy.out"; exit 1; }

# Two requests on one kept-alive connection: both bodies intact, each held >= 180 ms.
curl -sS --fail -o "$work/got1" -o "$work/got2" -w '%{time_total}\n' \
  "http://127.0.0.1:$proxy_port/blob" "http://127.0.0.1:$proxy_port/blob" > "$work/times"
cmp "$work/blob" "$work/got1" && cmp "$work/blob" "$work/got2" || { echo "FAIL: bytes differ through the proxy"; exit 1; }
while read -r seconds; do
  awk -v s="$seconds" 'BEGIN { exit !(s >= 0.18) }' || { echo "FAIL: an answer came after $seconds s, not after the 200 ms delay"; exit 1; }
done < "$work/times"

# Bad arguments: exit 2 with a message naming the option.
if "$proxy" --upstream nocolon 2> "$work/err"; then echo "FAIL: a bad --upstream was accepted"; exit 1; fi
grep -q -- '--upstream wants HOST:PORT' "$work/err" || { echo "FAIL: unclear message:"; cat "$work/err"; exit 1; }
if "$proxy" --upstream 127.0.0.1:1 --delay-ms -3 2> "$work/err"; then echo "FAIL: a negative delay was accepted"; exit 1; fi
echo "ok: bytes intact, answers held $(paste -sd, "$work/times") s for a 200 +- 20 ms delay"
