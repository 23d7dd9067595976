#!/usr/bin/env bash
# Installs playwright-core (the library that drives Debian's chromium for the console tests,
# tests/serve/console/) into tests/serve/console/node_modules at the version pinned by
# package.json and package-lock.json. It never downloads a browser: the tests run
# /usr/bin/chromium (scripts/bootstrap.sh installs Debian's `chromium`). Idempotent: does
# nothing when node_modules already matches the manifest and the lock.
#
#   bash tests/serve/console/install.sh          install if needed
#   bash tests/serve/console/install.sh --force  reinstall from scratch
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
log() { echo "tests/serve/console/install.sh: $*" >&2; }
die() { log "$*"; exit 1; }

force=0
case "${1:-}" in
  --force) force=1 ;;
  '') ;;
  *) die "usage: $0 [--force]" ;;
esac

command -v node >/dev/null && command -v npm >/dev/null ||
  die "node and npm are needed (Debian: apt-get install nodejs npm; bench/peer/install.sh installs them)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "playwright-core 1.65 needs node >= 20, found $(node --version)"

want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ $force = 0 ] && [ -f node_modules/.install-stamp ] && [ "$(cat node_modules/.install-stamp)" = "$want" ] &&
   [ -f node_modules/playwright-core/package.json ]; then
  log "up to date (playwright-core $(node -p 'require("./node_modules/playwright-core/package.json").version'))"
  exit 0
fi

rm -rf node_modules
log "npm ci (playwright-core, no browser download)"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
version=$(node -p 'require("./node_modules/playwright-core/package.json").version')
[ "$version" = 1.65.1 ] || die "expected playwright-core 1.65.1, got $version"
echo "$want" > node_modules/.install-stamp
log "installed playwright-core $version into $here/node_modules"
