#!/bin/sh
# run_suite.sh -- the validation suite on a GPU machine: for every plan in
# configs/experiments/validation, a real run (gppsim-exec) and a simulation
# (gppsim simulate) on the 1-GPU H100 cluster, written as
# validate/results/NAME.measured.h5 and NAME.simulated.h5, a predicted-vs-
# measured scatter plot per plan, and the error table of
# `gppsim validate suite` in validate/results/README.md.
#
# usage: validate/run_suite.sh [BUILD_DIR] [-- gppsim-exec options]
#   BUILD_DIR  holds gppsim and gppsim-exec (default: build)
#   e.g.       validate/run_suite.sh build -- --iterations 20 --warmup 5
# Environment: PROFILE=DB simulates with measured op costs (simulate
# --profile and gppsim-exec --profile), CLUSTER overrides the cluster file.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
case $BUILD in /*) ;; *) BUILD="$SRC/$BUILD" ;; esac
GPPSIM="$BUILD/gppsim"
EXEC="$BUILD/gppsim-exec"
CLUSTER=${CLUSTER:-$SRC/configs/clusters/h100-1gpu.yaml}
OUT="$SRC/validate/results"
for bin in "$GPPSIM" "$EXEC"; do
  [ -x "$bin" ] || { echo "run_suite.sh: $bin not built" >&2; exit 2; }
done
PROF=""
[ -n "${PROFILE:-}" ] && PROF="--profile $PROFILE"
mkdir -p "$OUT"
cd "$SRC"
for plan in configs/experiments/validation/*.yaml; do
  name=$(basename "$plan" .yaml)
  echo "== $name" >&2
  # shellcheck disable=SC2086
  "$EXEC" --plan "$plan" --cluster "$CLUSTER" $PROF "$@" \
    --out "$OUT/$name.measured.h5"
  # shellcheck disable=SC2086
  "$GPPSIM" simulate --plan "$plan" --cluster "$CLUSTER" $PROF \
    --out "$OUT/$name.simulated.h5" > /dev/null
  "$GPPSIM" validate compare "$OUT/$name.measured.h5" \
    "$OUT/$name.simulated.h5" --scatter "$OUT/$name.png" > "$OUT/$name.txt"
done
TMP="$OUT/README.md.tmp.$$"
{
  echo "# Validation results"
  echo
  echo "Measured (gppsim-exec) against simulated (gppsim simulate) iterations of"
  echo "the plans in configs/experiments/validation on $(basename "$CLUSTER" .yaml),"
  echo "written by validate/run_suite.sh. Relative error is (predicted - measured) /"
  echo "measured; task and stage columns are |error| statistics; NAME.txt has each"
  echo "plan's per-stage errors and NAME.png its predicted-vs-measured scatter plot."
  echo
  "$GPPSIM" validate suite "$OUT" --markdown
} > "$TMP"
mv "$TMP" "$OUT/README.md"
cat "$OUT/README.md"
