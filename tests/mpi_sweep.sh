#!/bin/sh
# mpi_sweep.sh -- `mpirun -n 2 gppsim sweep` writes exactly the /points rows
# (same bytes) of a single-process run of the tiny experiment, and a
# 3-rank run resumed from a single-process partial file does too.  A bad
# input at a point exits 2 on every rank, the message printed once, and
# the rows finished by then stay in the working file.
# Usage: mpi_sweep.sh GPPSIM MPIEXEC SOURCE_DIR
set -u
GPPSIM=$1
MPIEXEC=$2
SRC=$3
PY=/usr/bin/python3
TINY="$SRC/configs/experiments/sweeps/tiny.yaml"
. "$(dirname "$0")/lib.sh"
mpi() {
  n=$1; shift
  "$MPIEXEC" --oversubscribe --allow-run-as-root -n "$n" "$GPPSIM" sweep \
    "$TINY" --quiet "$@"
}
"$GPPSIM" sweep "$TINY" --out "$TMP/one.h5" --quiet > /dev/null ||
  fail "single-process sweep"
mpi 2 --out "$TMP/two.h5" > "$TMP/two.txt" 2> "$TMP/two.err" ||
  fail "2 ranks exited $?: $(tail -3 "$TMP/two.err")"
same_points "$TMP/one.h5" "$TMP/two.h5" 32 || fail "2 ranks: /points differ"
[ "$(grep -c ' ok ' "$TMP/two.txt")" -eq 32 ] ||
  fail "2 ranks: the table is printed once, 32 rows"
# Resume under MPI from a partial file holding the first 5 rows.
"$PY" - "$TMP/one.h5" "$TMP/three.h5.partial" <<'PYEOF' || fail "partial"
import sys, h5py
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "w") as b:
    for k in ("experiment", "plans"):
        a.copy(k, b)
    for k in ("points", "timing"):
        b.create_dataset(k, data=a[k][:5], maxshape=(None,), chunks=(64,))
PYEOF
mpi 3 --out "$TMP/three.h5" --resume > /dev/null 2> "$TMP/three.err" ||
  fail "3 ranks resume exited $?: $(tail -3 "$TMP/three.err")"
same_points "$TMP/one.h5" "$TMP/three.h5" 32 || fail "3 ranks resume: /points differ"
# A bad input at a point: every other point names an unknown GPU (point 0
# is fine); every rank finds it at load, all exit 2 and rank 0 alone
# prints it, at its line in the experiment file.
printf '%s\n' 'name: bad' 'models: [configs/models/synthetic.yaml]' \
  'clusters: [configs/clusters/pcie-box.yaml]' \
  'grid: {gpus: [4, 8], batch: [32], cluster.gpu: [a100-sxm-80gb, no-such-gpu]}' \
  > "$TMP/bad.yaml"
for n in 2 3; do
  "$MPIEXEC" --oversubscribe --allow-run-as-root -n "$n" "$GPPSIM" sweep \
    "$TMP/bad.yaml" --quiet --out "$TMP/bad$n.h5" > /dev/null 2> "$TMP/bad$n.err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "$n ranks, bad point: exit $rc, not 2"
  [ "$(grep -c "unknown GPU 'no-such-gpu'" "$TMP/bad$n.err")" -eq 1 ] ||
    fail "$n ranks, bad point: the message must be printed once"
  grep -q "bad.yaml:4:64: point 1 .*unknown GPU" "$TMP/bad$n.err" ||
    fail "$n ranks, bad point: no position in: $(head -1 "$TMP/bad$n.err")"
  # Found at load: no point ran, nothing was written.
  [ -e "$TMP/bad$n.h5.partial" ] && fail "$n ranks: a partial file was left"
done
finish mpi_sweep
