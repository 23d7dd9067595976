#!/usr/bin/env bash
# One ctest of the web console (label console): starts `s3db serve` on a loopback port over a
# fresh database, then runs console_flows.mjs, which seeds it through the API and walks every
# flow of the console in Debian's headless Chromium, saving screenshots.
#
#   run_console_test.sh S3DB_BINARY STORE SCREENSHOT_DIR WORK_DIR
#
# STORE: `memory` (memory://, no authentication) or `file-auth` (a file:// store, served with
# an --auth-file, so the console must ask for the API key).
# Without /usr/bin/chromium or playwright-core (tests/serve/console/install.sh) the test fails
# under CI (CI=true, where scripts/test.sh installs both) and is skipped (exit 77) otherwise.
set -euo pipefail

s3db=$1 store=$2 shots=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)

missing() {
  if [ "${CI:-}" = true ] || [ "${S3DB_REQUIRE_CONSOLE_TESTS:-0}" = 1 ]; then
    echo "FAIL: $1 (scripts/test.sh installs it)" >&2
    exit 1
  fi
  echo "SKIP: $1; run scripts/bootstrap.sh and bash tests/serve/console/install.sh to run the console tests" >&2
  exit 77
}
chromium=${S3DB_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || missing "no Chromium at $chromium (Debian: apt-get install chromium)"
command -v node >/dev/null || missing "no node"
[ -f "$here/node_modules/playwright-core/package.json" ] || missing "playwright-core is not installed in $here/node_modules"

rm -rf "$work" "$shots"
mkdir -p "$work" "$shots"
shots=$(cd "$shots" && pwd) work=$(cd "$work" && pwd)  # the flows run from this folder
serve_args=(--listen 127.0.0.1:0)
flow_args=(--shots "$shots")
case $store in
  memory) uri=memory://console ;;
  file-auth)
    uri="file://$work/data"
    key=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    digest=$(printf %s "$key" | sha256sum | cut -d' ' -f1)
    printf '{"apiKeys":[{"name":"console-test","sha256":"%s","scopes":["admin:*"]}]}\n' "$digest" > "$work/auth.json"
    serve_args+=(--auth-file "$work/auth.json")
    flow_args+=(--api-key "$key")
    ;;
  *) echo "unknown store $store" >&2; exit 2 ;;
esac

"$s3db" --uri "$uri" serve "${serve_args[@]}" > "$work/serve.out" 2> "$work/serve.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
base=
for _ in $(seq 1 200); do
  base=$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$work/serve.out")
  [ -n "$base" ] && break
  kill -0 "$server" 2>/dev/null || { echo "s3db serve exited:" >&2; cat "$work/serve.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "s3db serve did not say where it listens" >&2; cat "$work/serve.err" >&2; exit 1; }
echo "s3db serve on $base ($store)"

cd "$here"
S3DB_CHROMIUM=$chromium node console_flows.mjs --base "$base" "${flow_args[@]}"
