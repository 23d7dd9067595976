#!/usr/bin/env bash
# Fuzzes the parsers of outside input (docs/TESTING.md "Fuzzing"):
#   scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET...]
# Builds the libFuzzer targets of tests/fuzz/ (preset `fuzz`: clang, ASan+UBSan), then runs
# each TARGET (default: all) for N seconds (default 60), J at a time (default 1), on a copy of
# its seed corpus and regressions: the committed corpus never grows by itself. Fails when any
# target crashes, hangs (-timeout=10 per input) or runs out of memory (-rss_limit_mb=2048);
# the input that did it is kept under build/fuzz/runs/ and printed. The ten latest runs are
# kept, and every run that found something.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

seconds=60
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    -h | --help) usage ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds wants a whole number >= 1" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --jobs wants a whole number >= 1" >&2; exit 2; }

all=()
for source in tests/fuzz/*_fuzz.cc; do
  name=${source##*/}
  all+=("${name%_fuzz.cc}")
done
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for target in "${targets[@]}"; do
  if [[ " ${all[*]} " != *" $target "* ]]; then
    echo "fuzz.sh: no target '$target' (targets: ${all[*]})" >&2
    exit 2
  fi
done

scripts/bootstrap.sh
echo "== fuzz: configure and build ${targets[*]}" >&2
cmake --preset fuzz -DS3DB_WERROR=ON -DCMAKE_UNITY_BUILD=ON >/dev/null  # batches, as scripts/test.sh
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

runs="build/fuzz/runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$runs"
# The ten latest runs are kept (each holds copies of the corpora, which grow as they fuzz);
# older ones go, except a run that found something, kept until its folder is removed by hand.
for old in $(ls -1d build/fuzz/runs/*/ 2>/dev/null | sort -r | tail -n +11); do
  if [ -z "$(find "$old" -path '*/found/*' -type f -print -quit)" ]; then rm -rf "$old"; fi
done

# One target: its own copy of the inputs, its log, and what it found.
fuzz_one() {
  local target=$1 dir="$runs/$1"
  mkdir -p "$dir/corpus" "$dir/found"
  cp tests/fuzz/corpus/"$target"/* "$dir/corpus/"
  if [ -d tests/fuzz/regressions/"$target" ]; then cp tests/fuzz/regressions/"$target"/* "$dir/corpus/"; fi
  ls "$dir/corpus" | wc -l >"$dir/seeds"
  local dict=()
  [ -f tests/fuzz/dict/"$target".dict ] && dict=(-dict="tests/fuzz/dict/$target.dict")
  local start=$SECONDS status=0
  build/fuzz/tests/fuzz/"$target"_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/found/" "${dict[@]}" "$dir/corpus" >"$dir/log" 2>&1 || status=$?
  echo $((SECONDS - start)) >"$dir/seconds"
  echo "$status" >"$dir/status"
  echo "== fuzz: $target done (exit $status)" >&2
}

running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  echo "== fuzz: $target for ${seconds}s" >&2
  fuzz_one "$target" &
  running=$((running + 1))
done
wait

# The figures, from libFuzzer's final stats (or its last status line when it stopped early).
failed=0
printf '\n%-12s %12s %9s %15s %7s  %s\n' target execs exec/s "corpus (seeds)" seconds result
for target in "${targets[@]}"; do
  dir="$runs/$target"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$dir/log" | tail -1 | tr -d '#')
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  entries=$(ls "$dir/corpus" | wc -l)
  result=ok
  if [ "$(cat "$dir/status")" != 0 ] || [ -n "$(ls "$dir/found")" ]; then
    result="FAILED: $(ls "$dir/found" | head -3 | tr '\n' ' ')(log: $dir/log)"
    failed=1
  fi
  printf '%-12s %12s %9s %8s (%4s) %7s  %s\n' "$target" "${execs:-?}" "${rate:-?}" "$entries" "$(cat "$dir/seeds")" \
    "$(cat "$dir/seconds")" "$result"
done

if [ "$failed" != 0 ]; then
  cat >&2 <<MSG

fuzz.sh: a target failed. Each input that broke it is in $runs/<target>/found/; replay one with
  build/fuzz/tests/fuzz/<target>_fuzz <that file>
then fix the product, add a gtest that feeds the input (tests/<layer>/), and keep the input in
tests/fuzz/regressions/<target>/ (docs/TESTING.md "Fuzzing").
MSG
  exit 1
fi
