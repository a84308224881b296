#!/bin/sh
# smoke.sh FUZZER SRC SEEDS SECONDS -- the CI run of one fuzz target: replay
# every input of SRC/tests/fuzz/regress/<target>/ (each once failed), then
# fuzz for SECONDS from the seeds (the run's new inputs go to a scratch
# corpus that is deleted).  Fails on any finding; libFuzzer names the input.
# Runs in SRC so relative paths in seeds (configs/...) resolve.
set -eu
fuzzer=$1 src=$2 seeds=$3 secs=$4
name=$(basename "$fuzzer")
t=${name#fuzz_}
regress=$src/tests/fuzz/regress/$t
dict=$src/tests/fuzz/$t.dict
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cd "$src"
export LSAN_OPTIONS="suppressions=$src/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# HDF5 has no frame pointers: the suppressions need the slow unwinder to see
# the HDF5 function names in a leak's stack.
case $t in profile|results)
  export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" ;;
esac
# A published row is simulated: a large one takes over 10 s under the
# sanitizers (1.7 s in Release), which is not a finding.
limit=10
[ "$t" = published ] && limit=60
set -- -close_fd_mask=1 -timeout=$limit -rss_limit_mb=2048
[ -f "$dict" ] && set -- "$@" -dict="$dict"
if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
  echo "fuzz $t: replaying $(ls "$regress" | wc -l) regression inputs"
  for f in "$regress"/*; do # one process each, as gppsim reads one file
    TMPDIR=$work "$fuzzer" "$@" -runs=0 "$f" 2>"$work/log" || {
      cat "$work/log"; exit 1; }
  done
fi
case $t in profile|results)
  # HDF5 1.10.8 itself reads freed memory (H5T__conv_struct_opt) within
  # seconds when one process opens many damaged files (README.md, Findings):
  # these two replay their seeds here; long.sh fuzzes them.
  echo "fuzz $t: replaying the seeds (HDF5: no mutation in CI)"
  TMPDIR=$work "$fuzzer" "$@" -runs=0 "$seeds"/* 2>"$work/log" || {
    cat "$work/log"; exit 1; }
  exit 0 ;;
esac
echo "fuzz $t: ${secs} s from $(ls "$seeds" | wc -l) seeds"
mkdir "$work/corpus"
TMPDIR=$work "$fuzzer" "$@" -max_total_time="$secs" -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds" 2>"$work/log" || {
  cat "$work/log"
  for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [ -f "$a" ] && echo "fuzz $t: failing input (base64, add it to tests/fuzz/regress/$t/):" &&
      base64 "$a"
  done
  exit 1
}
grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' "$work/log" || true
