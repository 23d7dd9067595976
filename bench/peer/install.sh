#!/usr/bin/env bash
# Installs s3db.js (the JavaScript reference implementation) and ioredis (its CachePlugin's
# redis client) into bench/peer/node_modules
# from the npm registry, at the versions pinned by package.json and package-lock.json, with
# the three dependencies the registry does not serve replaced by the stubs in stubs/
# (see README.md, "Stubs"). Idempotent: does nothing when node_modules already matches
# package.json, package-lock.json and stubs/.
#
#   bash bench/peer/install.sh          install if needed
#   bash bench/peer/install.sh --force  reinstall from scratch
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
log() { echo "bench/peer/install.sh: $*" >&2; }
die() { log "$*"; exit 1; }

force=0
case "${1:-}" in
  --force) force=1 ;;
  '') ;;
  *) die "usage: $0 [--force]" ;;
esac

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "node/npm not found: installing Debian's nodejs and npm"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    die "node and npm are needed (Debian: apt-get install nodejs npm)"
  fi
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || die "node >= 18 is needed, found $(node --version)"

# What the installed tree must match: the manifest, the lock and the stubs' files.
stamp_of() {
  cat package.json package-lock.json $(find stubs -type f | LC_ALL=C sort) | sha256sum | cut -d' ' -f1
}
want=$(stamp_of)
if [ $force = 0 ] && [ -f node_modules/.install-stamp ] && [ "$(cat node_modules/.install-stamp)" = "$want" ] &&
   [ -f node_modules/s3db.js/package.json ]; then
  log "up to date (s3db.js $(node -p 'require("./node_modules/s3db.js/package.json").version'))"
  exit 0
fi

# `npm ci` cannot be used: s3db.js lists the optional dependencies raffel@1.0.26 and
# reddb-cli, which the registry does not serve either, so npm leaves them out of the lock
# and `npm ci` then refuses the lock as out of sync. `npm install` with the committed lock
# installs exactly the locked versions, skips the missing optional packages, and
# --no-save leaves package.json and package-lock.json untouched.
rm -rf node_modules
log "npm install (s3db.js and its locked dependencies, stubs from stubs/)"
npm install --no-save --no-audit --no-fund --loglevel=error 2>&1 |
  grep -v -e 'Unknown user config' -e 'EBADENGINE' -e '^npm warn install-scripts' >&2 || true
[ -f node_modules/s3db.js/package.json ] || die "npm install failed: node_modules/s3db.js missing"

version=$(node -p 'require("./node_modules/s3db.js/package.json").version')
[ "$version" = 21.6.2 ] || die "expected s3db.js 21.6.2, got $version"
# The redis driver of s3db.js's CachePlugin (the cached-get workload) loads ioredis on demand.
ioredis=$(node -p 'require("./node_modules/ioredis/package.json").version' 2>/dev/null) || die "ioredis is missing"
[ "$ioredis" = 5.11.1 ] || die "expected ioredis 5.11.1, got $ioredis"
for stub in recker tuiuiu.js cli-args-parser; do
  v=$(node -p "require('./node_modules/$stub/package.json').version")
  case $v in *-s3db-bench-stub) ;; *) die "node_modules/$stub is not the stub (version $v)" ;; esac
done
node --input-type=module -e "import('s3db.js').then(m => { if (typeof m.S3db !== 'function') process.exit(1); })" ||
  die "s3db.js does not load"
echo "$want" > node_modules/.install-stamp
log "installed s3db.js $version into $here/node_modules"
