#!/usr/bin/env bash
# The shell completions as the shells run them, against a real s3db and a file:// database.
#   completion_test.sh bash|zsh S3DB SOURCE_DIR
# bash: tools/s3db/completions/s3db.bash is sourced and _s3db called with COMP_LINE,
# COMP_POINT, COMP_WORDS and COMP_CWORD set as readline sets them. zsh: _s3db is only
# checked to parse (`zsh -n`); a zsh-less machine skips (exit 77).
set -euo pipefail
shell=$1 s3db=$2 src=$3

if [[ $shell == zsh ]]; then
  command -v zsh >/dev/null || { echo "zsh is not installed: skipped"; exit 77; }
  zsh -n "$src/tools/s3db/completions/_s3db"
  head -1 "$src/tools/s3db/completions/_s3db" | grep -qx '#compdef s3db'
  exit 0
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export S3DB_URI=file://$dir/db
"$s3db" resource create users --schema "$src/examples/users.schema.json" >/dev/null
"$s3db" resource create admins --schema "$src/examples/users.schema.json" >/dev/null

# shellcheck source=/dev/null
source "$src/tools/s3db/completions/s3db.bash"
[[ $(complete -p s3db) == "complete -F _s3db s3db" ]] || { echo "FAIL: s3db.bash registers no _s3db"; exit 1; }

failures=0
# COMPREPLY for the line typed so far ("s3db get " completes a new, empty word).
replies() {
  COMP_LINE=$1
  COMP_POINT=${#1}
  read -ra COMP_WORDS <<<"$1"
  [[ $1 == *' ' ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _s3db
  echo "${COMPREPLY[*]-}"
}
expect() {
  local got
  got=$(replies "$1")
  if [[ $got != "$2" ]]; then
    echo "FAIL: '$1' completes to '$got', expected '$2'"
    failures=$((failures + 1))
  fi
}

expect "$s3db resource " "create list show drop"
expect "$s3db res" "resource"
expect "$s3db get " "admins users"
expect "$s3db get u" "users"
expect "$s3db get users " ""
expect "$s3db --uri file://$dir/other get " ""
expect "$s3db --uri file://$dir/db resource show a" "admins"
expect "$s3db export users --format " "jsonl csv"
expect "$s3db delete-all users --y" "--yes"
expect "$s3db --ver" "--version"
# File names where a file goes: the shell's own compgen -f.
touch "$dir/schema-one.json"
expect "$s3db resource create x --schema $dir/schema-o" "$dir/schema-one.json"

((failures == 0)) || exit 1
echo "ok"
