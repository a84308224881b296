#!/bin/sh
# cli_validate.sh -- whole-program checks of the validation suite and of
# `gppsim validate`: every plan in configs/experiments/validation replays in
# `gppsim simulate` on the 1-GPU H100 cluster within memory, with 1-4
# stages, each of gpipe/1f1b/gpp and micro-batches between 1 and 16;
# `validate compare` of a file with itself has zero error, of two plans'
# files exits 2, of a damaged file exits 2; `validate suite` prints one row
# per pair and the suite summary; --scatter draws a PNG; bad arguments
# exit 2.
# Usage: cli_validate.sh GPPSIM SOURCE_DIR
set -u
GPPSIM=$1
SRC=$2
PY=/usr/bin/python3
CL="$SRC/configs/clusters/h100-1gpu.yaml"
DIR="$SRC/configs/experiments/validation"
. "$(dirname "$0")/lib.sh"

# json FILE EXPR: a Python expression over the JSON document d.
json() {
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$1" "$2"
}

# Every plan replays, fits in 80 GB, and together they span the suite.
n=0
for plan in "$DIR"/*.yaml; do
  name=$(basename "$plan" .yaml)
  "$GPPSIM" simulate --plan "$plan" --cluster "$CL" --json \
    --out "$TMP/$name.simulated.h5" > "$TMP/$name.json" 2> "$TMP/$name.err" ||
    { fail "$name: simulate exited $?: $(cat "$TMP/$name.err")"; continue; }
  [ "$(json "$TMP/$name.json" 'd["oom"]')" = "False" ] || fail "$name: exceeds memory"
  n=$((n + 1))
done
[ $n -ge 12 ] || fail "only $n validation plans replay (need 12)"
cat "$TMP"/*.json > /dev/null
span=$("$PY" -c '
import glob, json, sys
ds = [json.load(open(p)) for p in glob.glob(sys.argv[1] + "/*.json")]
st = sorted({len(d["stages"]) for d in ds})
sc = sorted({d["schedule"] for d in ds})
mb = sorted({s["micro_batch"] for d in ds for s in d["stages"]})
print(st[0], st[-1], ",".join(sc), mb[0], mb[-1])' "$TMP")
[ "$span" = "1 4 1f1b,gpipe,gpp 1 16" ] || fail "suite span '$span'"
echo "cli_validate: $n plans replay (stages, schedules, micro-batches: $span)"

# compare: a file against itself has zero error everywhere.
A="$TMP/synthetic-gpp-2.simulated.h5"
B="$TMP/mmt-gpp-4.simulated.h5"
"$GPPSIM" validate compare "$A" "$A" --json > "$TMP/self.json" ||
  fail "compare self: exit $?"
[ "$(json "$TMP/self.json" 'd["iteration"]["error"]')" = "0.0" ] || fail "self: iteration error"
[ "$(json "$TMP/self.json" 'd["tasks"]["max_abs_error"]')" = "0.0" ] || fail "self: task error"
[ "$(json "$TMP/self.json" 'd["matched"]')" = "18" ] || fail "self: matched $(json "$TMP/self.json" 'd["matched"]'), expected 18"
"$GPPSIM" validate compare "$A" "$A" > "$TMP/self.txt" || fail "compare text: exit $?"
grep -q "error +0.00%" "$TMP/self.txt" || fail "compare text: $(cat "$TMP/self.txt")"

# Bad input: exit 2 with a message naming the problem.
bad() {
  name=$1; want=$2; shift 2
  "$GPPSIM" validate "$@" > /dev/null 2> "$TMP/bad.err"
  rc=$?
  [ $rc -eq 2 ] || fail "$name: exit $rc, expected 2"
  grep -q "$want" "$TMP/bad.err" || fail "$name: message '$(cat "$TMP/bad.err")' lacks '$want'"
}
printf 'not hdf5\n' > "$TMP/junk.h5"
bad mismatched "mismatched files" compare "$A" "$B"
bad damaged "not an HDF5 file" compare "$TMP/junk.h5" "$A"
bad missing "no such file" compare "$TMP/nope.h5" "$A"
if "$PY" -c 'import h5py' 2> /dev/null; then
  "$PY" -c 'import h5py, sys; h5py.File(sys.argv[1], "w").create_group("x")' "$TMP/other.h5"
  bad foreign "no /summary group" compare "$TMP/other.h5" "$A"
fi
bad one_arg "takes 2 file arguments" compare "$A"
bad subcommand "unknown subcommand" frobnicate
bad empty_suite "no \*.measured.h5 files" suite "$TMP"

# suite: NAME.measured.h5 against NAME.simulated.h5 (here a copy).
mkdir "$TMP/suite"
for name in synthetic-gpp-2 mmt-gpp-4; do
  cp "$TMP/$name.simulated.h5" "$TMP/suite/$name.simulated.h5"
  cp "$TMP/$name.simulated.h5" "$TMP/suite/$name.measured.h5"
done
"$GPPSIM" validate suite "$TMP/suite" > "$TMP/suite.txt" || fail "suite: exit $?"
grep -q "^mmt-gpp-4 " "$TMP/suite.txt" || fail "suite: no mmt-gpp-4 row"
grep -q "2 plans: |iteration error| median 0.00%, max 0.00%" "$TMP/suite.txt" ||
  fail "suite summary: $(cat "$TMP/suite.txt")"
"$GPPSIM" validate suite "$TMP/suite" --markdown | grep -q "^| synthetic-gpp-2 |" ||
  fail "suite --markdown"
cp "$B" "$TMP/suite/synthetic-gpp-2.measured.h5"
bad suite_mismatch "mismatched files" suite "$TMP/suite"

# --scatter: a PNG through plots/validate_scatter.py.
if "$PY" -c 'import matplotlib, h5py' 2> /dev/null; then
  "$GPPSIM" validate compare "$A" "$A" --scatter "$TMP/s.png" > /dev/null ||
    fail "--scatter: exit $?"
  [ -s "$TMP/s.png" ] || fail "--scatter: no PNG"
fi

# gppsim-exec (built where nvcc is found) refuses what it cannot run before
# touching a GPU: bad arguments and data-parallel stages exit 2.
EXEC="$(dirname "$GPPSIM")/gppsim-exec"
if [ -x "$EXEC" ]; then
  "$EXEC" --help | grep -q "usage: gppsim-exec" || fail "gppsim-exec --help"
  "$EXEC" --plan "$DIR/mmt-gpp-4.yaml" --cluster "$CL" --out "$TMP/x.h5" \
    --iterations 0 2> "$TMP/exec.err"
  [ $? -eq 2 ] && grep -q "iterations expects" "$TMP/exec.err" ||
    fail "gppsim-exec --iterations 0: $(cat "$TMP/exec.err")"
  printf 'model: configs/models/synthetic.yaml\nbatch: 8\nmicro_batch: 4\nschedule: gpipe\nstages:\n  - {name: a, ops: ["*"], devices: [0, 1]}\n' > "$TMP/dp.yaml"
  "$EXEC" --plan "$TMP/dp.yaml" --cluster "$SRC/configs/clusters/pcie-box.yaml" \
    --out "$TMP/x.h5" 2> "$TMP/exec.err"
  [ $? -eq 2 ] && grep -q "dp.yaml:6:36: stage 'a' has 2 data-parallel" "$TMP/exec.err" ||
    fail "gppsim-exec data-parallel: $(cat "$TMP/exec.err")"
  [ ! -e "$TMP/x.h5" ] || fail "gppsim-exec left an output after failing"
fi

"$GPPSIM" validate --help | grep -q "usage: gppsim validate compare" || fail "--help"

finish cli_validate
