#!/bin/sh
# cli_bench.sh -- the benchmarks' command lines: --help prints the usage and
# exits 0; extra or malformed arguments exit 2 with a reason on stderr and
# no table on stdout.  (The measurements themselves are the benchmarks'
# business: Release builds, figures in the notes.)
# Usage: cli_bench.sh BENCH_NET BENCH_EVQ BENCH_ENGINE BENCH_PLANNER
set -u
. "$(dirname "$0")/lib.sh"

for b in "$@"; do
  name=$(basename "$b")
  "$b" --help >"$TMP/out" 2>"$TMP/err" || fail "$name --help: exit $?"
  grep -q "^usage: $name" "$TMP/out" || fail "$name --help: no usage line"
  [ -s "$TMP/err" ] && fail "$name --help wrote to stderr"
  "$b" a b c >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "$name a b c: exit $rc, expected 2"
  grep -q "at most" "$TMP/err" || fail "$name a b c: no reason on stderr"
  [ -s "$TMP/out" ] && fail "$name a b c wrote a table"
done

planner=$4
for args in "abc" "0" "128 0" "128 x" "-5"; do
  # shellcheck disable=SC2086
  "$planner" $args >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "bench_planner $args: exit $rc, expected 2"
  grep -q "whole number" "$TMP/err" || fail "bench_planner $args: no reason"
  [ -s "$TMP/out" ] && fail "bench_planner $args wrote a table"
done

for args in "--table1 x" "--table1 0"; do
  # shellcheck disable=SC2086
  "$planner" $args >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "bench_planner $args: exit $rc, expected 2"
  grep -q "whole number" "$TMP/err" || fail "bench_planner $args: no reason"
  [ -s "$TMP/out" ] && fail "bench_planner $args wrote a table"
done
"$planner" --help | grep -q -- "--table1" || fail "bench_planner --help: no --table1"

for args in "0" "64 x" "64 64 99999999"; do
  # shellcheck disable=SC2086
  "$planner" --scale $args >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "bench_planner --scale $args: exit $rc, expected 2"
  grep -q "whole number" "$TMP/err" || fail "bench_planner --scale $args: no reason"
  [ -s "$TMP/out" ] && fail "bench_planner --scale $args wrote a table"
done
"$planner" --scale --help | grep -q "16,384-GPU" || fail "bench_planner --scale --help"

finish cli_bench
