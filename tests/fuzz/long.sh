#!/bin/sh
# long.sh BUILD_FUZZ SECONDS CORPUS_DIR [TARGET...] -- a long fuzzing
# campaign: each target in turn (all ten by default) for SECONDS, growing
# CORPUS_DIR/<target>/ from the seeds (kept between campaigns), findings in
# CORPUS_DIR/<target>-crash-* etc., log in CORPUS_DIR/<target>.log, whose
# last lines give the executions, exec/s and cov.  Run it niced, e.g.
#   setsid nohup nice -n 10 sh tests/fuzz/long.sh build-fuzz 3600 ~/fuzz &
# $FUZZ_FLAGS is added to libFuzzer's flags, e.g. "-fork=1
# -ignore_crashes=1" to go on past crashes inside a library (HDF5 1.10.8
# on damaged files: README.md) and keep each as an artifact.
set -u
build=$(cd "$1" && pwd) secs=$2 dir=$3
shift 3
[ $# -gt 0 ] || set -- model cluster hardware plan sweep net kernels published profile results
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
cd "$src"
export LSAN_OPTIONS="suppressions=$src/tests/fuzz/lsan.supp"
for t in "$@"; do
  mkdir -p "$dir/$t" "$dir/tmp-$t"
  dict=""
  [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
  case $t in profile|results) unwind=fast_unwind_on_malloc=0 ;; *) unwind= ;; esac
  ASAN_OPTIONS=$unwind TMPDIR="$dir/tmp-$t" "$build/tests/fuzz/fuzz_$t" \
    -close_fd_mask=1 -timeout=$([ "$t" = published ] && echo 60 || echo 10) \
    -rss_limit_mb=2048 $dict ${FUZZ_FLAGS:-} \
    -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$dir/$t-" "$dir/$t" "$build/tests/fuzz/seeds/$t" \
    > "$dir/$t.log" 2>&1
  echo "$t: exit $? $(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/$t.log")" >> "$dir/summary"
  rm -rf "$dir/tmp-$t"
done
