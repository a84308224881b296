#!/bin/sh
# cli_bench.sh -- the benchmarks' command lines: --help prints the usage and
# exits 0; extra or malformed arguments exit 2 with a reason on stderr and
# no table on stdout.  (The measurements themselves are the benchmarks'
# business: Release builds, figures in the notes.)
# Usage: cli_bench.sh BENCH_NET BENCH_EVQ BENCH_ENGINE BENCH_PLANNER GPPSIM
set -u
. "$(dirname "$0")/lib.sh"
GPPSIM=$5

for b in "$1" "$2" "$3" "$4"; do
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
# usage_error BENCH REASON ARGS: BENCH ARGS (split at spaces) exits 2 with
# REASON (a grep pattern) on stderr and no table.
usage_error() {
  b=$1 reason=$2 args=$3
  # shellcheck disable=SC2086
  "$b" $args >"$TMP/out" 2>"$TMP/err"
  rc=$?
  name=$(basename "$b")
  [ "$rc" -eq 2 ] || fail "$name $args: exit $rc, expected 2"
  grep -q "$reason" "$TMP/err" || fail "$name $args: no reason"
  [ -s "$TMP/out" ] && fail "$name $args wrote a table"
}
for args in "abc" "0" "128 0" "128 x" "-5" "--table1 x" "--table1 0" \
            "--scale 0" "--scale 64 x" "--scale 64 64 99999999"; do
  usage_error "$planner" "whole number" "$args"
done
net=$1
for args in "0" "x" "10,,100" "2000000" "1,2,3,4,5,6,7,8,9" \
            "--collectives=0" "--collectives=x" "--collectives=101" \
            "--collectives=" "--collectives=1 --collectives=2" "10 20"; do
  usage_error "$net" "whole numbers\|given twice" "$args"
done
"$net" 10 >"$TMP/out" 2>"$TMP/err" || fail "bench_net 10: exit $?"
grep -q "changed/rs" "$TMP/out" || fail "bench_net 10: no changed/rs column"
[ "$(grep -c '^ *10 ' "$TMP/out")" -eq 1 ] || fail "bench_net 10: not one row"
grep -q "^Collectives" "$TMP/out" && fail "bench_net 10: ran the collectives"
# One group's worth of buckets: every completed collective's member flows
# (2 x 127 steps x 128 flows of an all-reduce, 127 x 128 of an all-gather)
# count two events each: 16 done give 1,040,384 and 520,192.
"$net" --collectives=1 >"$TMP/out" 2>"$TMP/err" ||
  fail "bench_net --collectives=1: exit $?"
grep -q "^Random" "$TMP/out" && fail "bench_net --collectives=1: ran random rows"
grep -q "^allreduce  *1  *1024  *16  *1040384 " "$TMP/out" ||
  fail "bench_net --collectives=1: no all-reduce row of 16 done, 1,040,384 events"
grep -q "^allgather  *1  *1024  *16  *520192 " "$TMP/out" ||
  fail "bench_net --collectives=1: no all-gather row of 16 done, 520,192 events"

engine=$3
"$engine" --flow --sizes 8,16 >"$TMP/out" 2>"$TMP/err" ||
  fail "bench_engine --flow --sizes 8,16: exit $?"
grep -q "8 ->     16 GPUs     flow (2.0x GPUs): events" "$TMP/out" ||
  fail "bench_engine: no growth line"

"$planner" --help | grep -q -- "--table1" || fail "bench_planner --help: no --table1"
"$planner" --scale --help | grep -q "16,384-GPU" || fail "bench_planner --scale --help"
for models in "foo" "dlrm,foo" "dlrm,dlrm" ","; do
  usage_error "$planner" "MODELS is a comma-separated subset" \
    "--scale 64 64 64 $models"
done
"$planner" --scale 64 64 64 dlrm >"$TMP/out" 2>"$TMP/err" ||
  fail "bench_planner --scale 64 64 64 dlrm: exit $?"
grep -q "^dlrm  *64 " "$TMP/out" || fail "bench_planner --scale dlrm: no dlrm row"
grep -q "^gpt\|^mmt" "$TMP/out" && fail "bench_planner --scale dlrm: other models"
[ "$(grep -c '%' "$TMP/out")" -eq 3 ] ||
  fail "bench_planner --scale dlrm: not three estimate errors (graphpipe, gp-plain, pipedream)"

# bench/bench_fsdp.sh: usage, bad sizes, and one 32-GPU row.
fsdp=$(dirname "$0")/../bench/bench_fsdp.sh
bash "$fsdp" --help >"$TMP/out" 2>"$TMP/err" || fail "bench_fsdp.sh --help: exit $?"
grep -q "^usage: bench_fsdp.sh GPPSIM" "$TMP/out" || fail "bench_fsdp.sh --help: no usage"
for sizes in 0 33 8192 x 32,,64; do
  bash "$fsdp" "$GPPSIM" "$sizes" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "bench_fsdp.sh GPPSIM $sizes: exit $rc, expected 2"
  grep -q "multiples of 32" "$TMP/err" || fail "bench_fsdp.sh $sizes: no reason"
done
bash "$fsdp" "$GPPSIM" 32 >"$TMP/out" 2>"$TMP/err" ||
  fail "bench_fsdp.sh GPPSIM 32: exit $?: $(cat "$TMP/err")"
grep -q "^ *32 .* 30112 " "$TMP/out" || fail "bench_fsdp.sh 32: no row of 30,112 events"

# bench/bench_demo.sh (the README's times): usage, and bad arguments
# refused before anything runs.
demo=$(dirname "$0")/../bench/bench_demo.sh
bash "$demo" --help >"$TMP/out" 2>"$TMP/err" || fail "bench_demo.sh --help: exit $?"
grep -q "^usage: bench_demo.sh GPPSIM" "$TMP/out" || fail "bench_demo.sh --help: no usage"
mkdir -p "$TMP/debug"
printf '#!/bin/sh\nexit 0\n' > "$TMP/debug/gppsim"
chmod +x "$TMP/debug/gppsim"
echo "CMAKE_BUILD_TYPE:STRING=Debug" > "$TMP/debug/CMakeCache.txt"
# demo_bad WANT ARGS: bench_demo.sh ARGS exits 2 with WANT on stderr.
demo_bad() {
  want=$1; shift
  bash "$demo" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "bench_demo.sh $*: exit $rc, expected 2"
  grep -q "$want" "$TMP/err" || fail "bench_demo.sh $*: no '$want' in $(cat "$TMP/err")"
  [ -s "$TMP/out" ] && fail "bench_demo.sh $* wrote a record"
}
demo_bad "usage:"
demo_bad "not an executable file" "$TMP/nosuch"
demo_bad "at most three" "$TMP/debug/gppsim" a 1 x
demo_bad "positive integer" "$TMP/debug/gppsim" "$TMP/rec" 0
demo_bad "a 'Debug' build" "$TMP/debug/gppsim" "$TMP/rec" 1
mkdir -p "$TMP/release"
cp "$TMP/debug/gppsim" "$TMP/release/gppsim"
echo "CMAKE_BUILD_TYPE:STRING=Release" > "$TMP/release/CMakeCache.txt"
demo_bad "is not a folder" "$TMP/release/gppsim" "$TMP/nosuch/rec" 1
[ ! -e "$TMP/rec" ] || fail "bench_demo.sh left a record after refusing"

finish cli_bench
