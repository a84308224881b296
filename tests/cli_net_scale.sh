#!/bin/sh
# cli_net_scale.sh -- the flow network's iteration times do not drift: one
# GPP iteration of MMT and GPT on Summit- and DGX-H100-style clusters of 8
# to 4,096 GPUs, and 16,384 on DGX-H100 (bench_engine's plans), must give the iteration times
# recorded in tests/data/net_scale/iterations.txt to 1e-9 relative.  The
# network's data structures may change for speed and memory; its max-min
# rates may not.
# Usage: cli_net_scale.sh BENCH_ENGINE SOURCE_DIR
set -u
. "$(dirname "$0")/lib.sh"
bench=$1
cd "$2" || exit 1
want=tests/data/net_scale/iterations.txt

grep -v '^#' "$want" | awk '{print $1, $2}' | sort -u >"$TMP/cases"
while read -r model cluster; do
  sizes=$(awk -v m="$model" -v c="$cluster" '$1 == m && $2 == c {print $3}' \
    "$want" | paste -sd, -)
  "$bench" --flow --sizes "$sizes" "$model" "$cluster" >"$TMP/out" 2>&1 ||
    { fail "bench_engine $model $cluster: exit $?"; cat "$TMP/out"; continue; }
  awk -v m="$model" -v c="$cluster" '$3 == "flow" {print m, c, $1, $10}' \
    "$TMP/out" >>"$TMP/got"
done <"$TMP/cases"

grep -v '^#' "$want" | awk '
  NR == FNR { got[$1 " " $2 " " $3] = $4; next }
  {
    k = $1 " " $2 " " $3
    if (!(k in got)) { print "FAIL: no run for " k; bad++; next }
    rel = (got[k] - $4) / $4; if (rel < 0) rel = -rel
    if (rel > 1e-9) { printf "FAIL: %s: %.17g s, recorded %.17g s (rel %.3g)\n", k, got[k], $4, rel; bad++ }
    n++
  }
  END { printf "%d iteration times checked\n", n; exit bad > 0 }' "$TMP/got" - ||
  fail "iteration times changed"
finish cli_net_scale
