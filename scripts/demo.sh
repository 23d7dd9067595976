#!/usr/bin/env bash
# A short walkthrough of the s3db CLI: creates a `users` resource, imports the example users,
# then reads, updates, lists, queries and counts them, printing each command before its
# output. Runs from the repository root on the embedded default store (./s3db-data there,
# ignored by git) unless $S3DB_URI names another. Safe to run again: it reuses the resource
# and first deletes the records an earlier run imported.
#
#   scripts/demo.sh [PATH_TO_S3DB]      (default: build/default/s3db)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
s3db=${1:-$repo_root/build/default/s3db}
if [[ $s3db != /* ]]; then s3db=$PWD/$s3db; fi
if [[ ! -x $s3db ]]; then
  echo "demo: no s3db binary at $s3db; build it first:" >&2
  echo "  cmake --preset default && cmake --build --preset default --target s3db_cli" >&2
  exit 1
fi
cd "$repo_root"

# Shows an argument the way it would be typed: quoted only when the shell needs it.
shown() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# Prints the command, then runs it; a failing step ends the demo with its exit code.
step() {
  printf '\n$ s3db'
  for arg in "$@"; do printf ' %s' "$(shown "$arg")"; done
  printf '\n'
  "$s3db" "$@"
}

if [[ -n ${S3DB_URI:-} ]]; then
  echo "# store: the one \$S3DB_URI names"
else
  echo "# store: the embedded default, file://./s3db-data in $repo_root"
fi

resources=$("$s3db" resource list)  # an assignment, so set -e stops on failure
if grep -qxF users <<<"$resources"; then
  echo "# resource users exists already: keeping it"
else
  step resource create users --schema examples/users.schema.json
fi

# Insert never overwrites, so records left by an earlier run would make the import fail:
# delete those (and only those: the ids in examples/users.jsonl) first.
existing_ids=$("$s3db" ids users)
leftovers=()
while read -r id; do
  if grep -qxF -- "$id" <<<"$existing_ids"; then leftovers+=("$id"); fi
done < <(sed -n 's/^{"id": *"\([^"]*\)".*/\1/p' examples/users.jsonl)
if ((${#leftovers[@]} > 0)); then
  echo
  echo "# an earlier run left the example users: deleting them so the import starts clean"
  step delete users "${leftovers[@]}"
fi

step import users examples/users.jsonl
step get users ada
step update users ada '{"age": 37, "address": {"city": "Cambridge"}}'
step list users --limit 3
step query users '{"address.country": "UK"}'
step count users
