#!/bin/sh
# cli_simulate.sh -- whole-program checks of `gppsim simulate`: every example
# plan in configs/experiments/plans replays on Summit (text and JSON); the
# HDF5 results and the trace are bit-identical across two runs; the trace is
# Chrome JSON whose GPU slices are the HDF5 /tasks compute rows; and each
# kind of bad input exits 2 with a file:line:column message.
# Usage: cli_simulate.sh GPPSIM SOURCE_DIR
set -u
GPPSIM=$1
SRC=$2
PY=/usr/bin/python3
export GPP_SOURCE_DIR="$SRC"
CLUSTER="$SRC/configs/clusters/summit.yaml"
. "$(dirname "$0")/lib.sh"

sim() {
  "$GPPSIM" simulate --cluster "$CLUSTER" "$@"
}

# The trace is JSON with traceEvents whose events carry ph/ts/pid/tid
# (metadata events need no ts).
check_trace() {
  "$PY" - "$1" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
evs = doc["traceEvents"]
assert isinstance(evs, list) and evs, "no traceEvents"
for e in evs:
    for k in ("ph", "pid", "tid") + (() if e["ph"] == "M" else ("ts",)):
        assert k in e, "event lacks %s: %r" % (k, e)
assert any(e["ph"] == "X" and e["pid"] == 0 for e in evs), "no GPU slices"
EOF
}

# GPU slices (pid 0) are the /tasks rows of kind forward, backward and
# optimizer, in order, with the same device, start and duration.
check_h5_vs_trace() {
  "$PY" - "$1" "$2" <<'EOF'
import json, sys
import h5py
t = h5py.File(sys.argv[1], "r")["tasks"][()]
kind = h5py.check_enum_dtype(t.dtype["kind"])
compute = {kind[k] for k in ("forward", "backward", "optimizer")}
rows = [r for r in t if int(r["kind"]) in compute]
evs = [e for e in json.load(open(sys.argv[2]))["traceEvents"]
       if e["ph"] == "X" and e["pid"] == 0]
assert len(rows) == len(evs), "%d rows, %d slices" % (len(rows), len(evs))
for r, e in zip(rows, evs):
    assert e["tid"] == int(r["device"]), (r, e)
    assert abs(e["ts"] - r["start"] * 1e6) < 1e-6, (r, e)
    assert abs(e["dur"] - (r["end"] - r["start"]) * 1e6) < 1e-6, (r, e)
EOF
}

have_h5py=0
if "$PY" -c 'import h5py' 2> /dev/null; then
  have_h5py=1
else
  echo "SKIP: /usr/bin/python3 has no h5py (Debian python3-h5py); the" \
       "HDF5 /tasks vs trace check is not run"
fi

n_plans=0
for f in "$SRC"/configs/experiments/plans/*.yaml; do
  n=$(basename "$f" .yaml)
  n_plans=$((n_plans + 1))
  sim --plan "$f" > "$TMP/$n.txt" 2>&1 || fail "$n exited $?: $(cat "$TMP/$n.txt")"
  grep -q "^iteration" "$TMP/$n.txt" || fail "$n: no iteration line"
  sim --plan "$f" --json > "$TMP/$n.json" 2> "$TMP/$n.err" || fail "$n --json"
  "$PY" -c 'import json,sys; json.load(sys.stdin)' < "$TMP/$n.json" ||
    fail "$n: --json output is not JSON"
  for i in 1 2; do
    sim --plan "$f" --out "$TMP/$n-$i.h5" --trace "$TMP/$n-$i.trace.json" \
      > /dev/null 2>&1 || fail "$n --out --trace (run $i)"
  done
  cmp -s "$TMP/$n-1.h5" "$TMP/$n-2.h5" || fail "$n: HDF5 differs between runs"
  cmp -s "$TMP/$n-1.trace.json" "$TMP/$n-2.trace.json" ||
    fail "$n: trace differs between runs"
  check_trace "$TMP/$n-1.trace.json" || fail "$n: bad trace"
  if [ $have_h5py -eq 1 ]; then
    check_h5_vs_trace "$TMP/$n-1.h5" "$TMP/$n-1.trace.json" ||
      fail "$n: trace GPU slices differ from HDF5 /tasks"
  fi
done
[ $n_plans -ge 7 ] || fail "expected at least 7 example plans, found $n_plans"

"$GPPSIM" simulate --help > "$TMP/help.txt" 2>&1 || fail "--help exited $?"
grep -q "usage: gppsim simulate" "$TMP/help.txt" || fail "--help: no usage"
"$GPPSIM" simulate --plan x.yaml > /dev/null 2>&1
[ $? -eq 2 ] || fail "no --cluster should exit 2"

# bad NAME KEYWORD YAML: exit status 2 and "NAME.yaml:line:col: ...KEYWORD".
bad() {
  printf '%s\n' "$3" > "$TMP/$1.yaml"
  sim --plan "$TMP/$1.yaml" > /dev/null 2> "$TMP/$1.err"
  rc=$?
  [ $rc -eq 2 ] || fail "$1: exit $rc, expected 2: $(cat "$TMP/$1.err")"
  grep -Eq "$1\.yaml:[0-9]+:[0-9]+: .*$2" "$TMP/$1.err" ||
    fail "$1: no file:line:col message with '$2': $(cat "$TMP/$1.err")"
}

HDR='model: configs/models/synthetic.yaml
batch: 16
micro_batch: 4'
B0='  - {name: a, ops: ["branch0.*"], devices: [0]}'
B1='  - {name: b, ops: ["branch1.*", concat, loss], devices: [1]}'
bad unknown_schedule "valid: gpp, gpipe, 1f1b, interleaved" "$HDR
schedule: zigzag
stages:
$B0
$B1"
bad no_stage "op 'loss' .* is in no stage" "$HDR
schedule: gpp
stages:
$B0
  - {name: b, ops: [\"branch1.*\", concat], devices: [1]}"
bad device_range "device 32 is out of range" "$HDR
schedule: gpp
stages:
$B0
  - {name: b, ops: [\"branch1.*\", concat, loss], devices: [1, 32]}"
bad tensor_divides "tensor 3 does not divide its 2 devices" "$HDR
schedule: gpp
stages:
$B0
  - {name: b, ops: [\"branch1.*\", concat, loss], devices: [1, 2], tensor: 3}"
bad cycle "cycle" "$HDR
schedule: gpp
stages:
  - {name: a, ops: [branch0.x, \"branch0.*[02]*\"], devices: [0]}
  - {name: m, ops: [\"branch0.*[13]*\"], devices: [2]}
$B1"
bad unknown_key "did you mean 'micro_batch'" "$HDR
micro_batches: 2
schedule: gpp
stages:
$B0
$B1"
bad missing_model "model file 'no/such/model.yaml' not found" "model: no/such/model.yaml
batch: 16
micro_batch: 4
schedule: gpp
stages:
$B0
$B1"
sim --plan "$TMP/no-such-plan.yaml" > /dev/null 2> "$TMP/missing.err"
rc=$?
[ $rc -eq 2 ] || fail "missing plan file: exit $rc, expected 2"
grep -Eq "no-such-plan\.yaml:[0-9]+:[0-9]+: " "$TMP/missing.err" ||
  fail "missing plan file: no file:line:col message: $(cat "$TMP/missing.err")"

echo "cli_simulate: $n_plans plans replayed"
finish cli_simulate
