#!/bin/bash
# cli_faults.sh -- regression tests for the fuzzing and fault findings of
# issue 21: a full disk during a sweep or a simulation (exit 1 naming the
# path and the system's reason, no crash; on a small tmpfs, skipped where
# none can be mounted), outputs never replacing a symlink, FIFO or device,
# a sweep killed before its first point resumable, and the checks that
# reject oversized or implausible inputs early.
# Usage: cli_faults.sh GPPSIM SOURCE_DIR SYNTH_PROFILE
set -u
GPPSIM=$1
SRC=$2
SYNTH=$3
PY=/usr/bin/python3
export GPP_SOURCE_DIR="$SRC"
TINY="$SRC/configs/experiments/sweeps/tiny.yaml"
PLAN="$SRC/configs/experiments/plans/synthetic-gpp-8.yaml"
CLUSTER="$SRC/configs/clusters/pcie-box.yaml"
. "$(dirname "$0")/lib.sh"

sim() {
  "$GPPSIM" simulate --plan "$PLAN" --cluster "$CLUSTER" "$@"
}

# expect STATUS LOG WHAT: the last command exited STATUS (passed as $?).
expect() {
  [ "$1" -eq "$2" ] || fail "$4: exit $1, want $2: $(tail -2 "$3")"
}

# ---- 1. a full disk: exit 1 naming the path and the reason, no crash ----
FULL="$TMP/full"
mkdir "$FULL"
if mount -t tmpfs -o size=64k tmpfs "$FULL" 2> /dev/null; then
  trap 'umount "$FULL" 2> /dev/null; rm -rf "$TMP"' EXIT
  "$GPPSIM" sweep "$TINY" --out "$FULL/s.h5" --quiet > /dev/null \
    2> "$TMP/full1.err"
  expect $? 1 "$TMP/full1.err" "sweep on a full disk"
  grep -q "$FULL/s.h5.*No space left on device" "$TMP/full1.err" ||
    fail "sweep on a full disk: no path and reason: $(cat "$TMP/full1.err")"
  # Fill the disk, then simulate.
  head -c 1M /dev/zero > "$FULL/fill" 2> /dev/null
  sim --out "$FULL/r.h5" > /dev/null 2> "$TMP/full2.err"
  expect $? 1 "$TMP/full2.err" "simulate --out on a full disk"
  grep -q "$FULL/r.h5.*No space left on device" "$TMP/full2.err" ||
    fail "simulate --out on a full disk: $(cat "$TMP/full2.err")"
  grep -qi "infinite loop" "$TMP/full2.err" &&
    fail "simulate --out on a full disk: HDF5 close loop"
  sim --trace "$FULL/t.json" > /dev/null 2> "$TMP/full3.err"
  expect $? 1 "$TMP/full3.err" "simulate --trace on a full disk"
  grep -q "$FULL/t.json.*No space left on device" "$TMP/full3.err" ||
    fail "simulate --trace on a full disk: $(cat "$TMP/full3.err")"
  # The sweep's working file stays for --resume; no temporary is left.
  left=$(ls "$FULL" | grep '\.tmp\.')
  [ -z "$left" ] || fail "full disk: temporaries left behind: $left"
  umount "$FULL"
else
  echo "SKIP: full-disk cases: cannot mount a tmpfs here (needs root)"
fi

# ---- 2. outputs never replace a symlink, FIFO or device ----------------
mkdir "$TMP/real"
ln -s real/r.h5 "$TMP/link.h5"
sim --out "$TMP/link.h5" > /dev/null 2> "$TMP/link.err" ||
  fail "--out through a symlink: exit $?: $(tail -1 "$TMP/link.err")"
[ -L "$TMP/link.h5" ] || fail "--out replaced a symlink"
[ -s "$TMP/real/r.h5" ] || fail "--out did not write the symlink's target"
ln -s real/t.json "$TMP/link.json"
sim --trace "$TMP/link.json" > /dev/null 2>&1 || fail "--trace via symlink"
[ -L "$TMP/link.json" ] && [ -s "$TMP/real/t.json" ] ||
  fail "--trace replaced a symlink"
ln -s real/p.yaml "$TMP/link.yaml"
"$GPPSIM" plan --model "$SRC/configs/models/synthetic.yaml" \
  --cluster "$CLUSTER" --gpus 4 --batch 32 --out "$TMP/link.yaml" \
  > /dev/null 2> "$TMP/plan.err" || fail "plan --out via symlink: $?"
[ -L "$TMP/link.yaml" ] && [ -s "$TMP/real/p.yaml" ] ||
  fail "plan --out replaced a symlink"
mkfifo "$TMP/fifo"
for opt in --out --trace; do
  timeout 60 "$GPPSIM" simulate --plan "$PLAN" --cluster "$CLUSTER" \
    $opt "$TMP/fifo" > /dev/null 2> "$TMP/fifo.err"
  expect $? 2 "$TMP/fifo.err" "$opt FIFO"
  [ -p "$TMP/fifo" ] || fail "$opt replaced a FIFO"
done
if [ "$(id -u)" -eq 0 ]; then
  mknod "$TMP/null" c 1 3
  sim --out "$TMP/null" > /dev/null 2> "$TMP/dev.err"
  expect $? 2 "$TMP/dev.err" "--out a device"
  [ -c "$TMP/null" ] || fail "--out replaced a device node"
  "$GPPSIM" sweep "$TINY" --out "$TMP/null" > /dev/null 2> "$TMP/dev2.err"
  expect $? 2 "$TMP/dev2.err" "sweep --out a device"
  [ -c "$TMP/null" ] || fail "sweep --out replaced a device node"
fi
ls "$TMP" "$TMP/real" | grep -q '\.tmp\.' && fail "temporary files left"

# ---- 3. a sweep killed in its first point can be resumed ---------------
# A partial file as the kill left it: HDF5's superblock without metadata.
"$GPPSIM" sweep "$TINY" --out "$TMP/k.h5" --quiet > /dev/null 2>&1 ||
  fail "tiny sweep"
head -c 96 "$TMP/k.h5" > "$TMP/r.h5.partial"
"$GPPSIM" sweep "$TINY" --out "$TMP/r.h5" --resume --quiet > /dev/null \
  2> "$TMP/resume.err" ||
  fail "resume from an unreadable partial: exit $?: $(tail -1 "$TMP/resume.err")"
grep -qi "warning.*r.h5.partial" "$TMP/resume.err" ||
  fail "resume from an unreadable partial: no warning"
same_points "$TMP/k.h5" "$TMP/r.h5" 32 || fail "resumed rows differ"
# kill -9 as soon as the partial file appears: it is a valid sweep file.
for i in 1 2 3; do
  rm -f "$TMP/e.h5" "$TMP/e.h5.partial"
  "$GPPSIM" sweep "$TINY" --out "$TMP/e.h5" --quiet > /dev/null 2>&1 &
  pid=$!
  n=0
  while [ ! -e "$TMP/e.h5.partial" ] && [ $n -lt 2000 ]; do n=$((n + 1)); done
  kill -9 $pid 2> /dev/null
  wait $pid 2> /dev/null
  [ -e "$TMP/e.h5.partial" ] || continue
  "$PY" -c "import h5py,sys; h5py.File(sys.argv[1],'r')['points']" \
    "$TMP/e.h5.partial" 2> /dev/null || fail "killed partial file unreadable"
  "$GPPSIM" sweep "$TINY" --out "$TMP/e.h5" --resume --quiet > /dev/null \
    2> "$TMP/e.err" || fail "resume after kill -9: $(tail -1 "$TMP/e.err")"
  same_points "$TMP/k.h5" "$TMP/e.h5" 32 || fail "resumed rows differ ($i)"
done

# ---- 4. bad grid values fail at load, at their line in the experiment -
exp4() {
  printf '%s\n' 'name: small' 'models: [configs/models/synthetic.yaml]' \
    'clusters: [configs/clusters/pcie-box.yaml]' "grid: {$1}" > "$TMP/g4.yaml"
  "$GPPSIM" sweep "$TMP/g4.yaml" --out "$TMP/g4.h5" --quiet > /dev/null \
    2> "$TMP/g4.err"
  expect $? 2 "$TMP/g4.err" "sweep grid {$1}"
  grep -q "g4.yaml:4:$2: point 1 .*$3" "$TMP/g4.err" ||
    fail "sweep grid {$1}: $(cat "$TMP/g4.err")"
  ls "$TMP" | grep -q '^g4\.h5' && fail "sweep grid {$1} left files"
}
exp4 'batch: [8], planner: [pipedream], model.branches: [2, 0]' 62 \
  'model.branches: parameter branches = 0 is out of range'
exp4 'batch: [8], cluster.intra_node.bandwidth: [1 GB/s, -3 GB/s]' 59 \
  'cluster.intra_node.bandwidth: bandwidth: -3 GB/s is out of range'

# ---- 5. texts over 64 KiB: stored as datasets, not attributes ---------
{ printf '%s\n' 'name: long' 'models: [configs/models/synthetic.yaml]' \
    'clusters: [configs/clusters/pcie-box.yaml]' \
    'grid: {gpus: [4], batch: [32], planner: [pipedream]}'
  "$PY" -c "print('# ' + 'x' * 70000)"; } > "$TMP/long.yaml"
LONG="$TMP/long.yaml"
"$GPPSIM" sweep "$LONG" --out "$TMP/long.h5" --quiet > /dev/null \
  2> "$TMP/long.err" || fail "70 KB experiment file: $(tail -1 "$TMP/long.err")"
"$GPPSIM" sweep "$LONG" --out "$TMP/long.h5" --resume --quiet > /dev/null \
  2> "$TMP/long.err" || fail "70 KB experiment, resumed: $(tail -1 "$TMP/long.err")"
"$PY" - "$CLUSTER" "$TMP/longname.yaml" <<'PYEOF'
import re, sys
t = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(re.sub(r"(?m)^name:.*$", "name: " + "c" * 70000, t))
PYEOF
"$GPPSIM" simulate --plan "$PLAN" --cluster "$TMP/longname.yaml" \
  --out "$TMP/longname.h5" > /dev/null 2> "$TMP/longname.err" ||
  fail "70 KB cluster name: $(tail -1 "$TMP/longname.err")"

# ---- 6. deep nesting is refused at once, with its location ------------
# 100,000 levels took libyaml's loader about 50 s before this check.
"$PY" -c "
d = 100000
open('$TMP/deep.yaml', 'w').write('model: ' + '[' * d + ']' * d + '\n')
open('$TMP/deepmap.yaml', 'w').write('name: x\nnodes:\n' +
    ''.join(' ' * (i + 1) + 'a:\n' for i in range(5000)))"
timeout 10 "$GPPSIM" simulate --plan "$TMP/deep.yaml" --cluster "$CLUSTER" \
  > /dev/null 2> "$TMP/deep.err"
expect $? 2 "$TMP/deep.err" "deeply nested plan"
grep -q "deep.yaml:1:.*nested deeper than 64" "$TMP/deep.err" ||
  fail "deep plan: $(cat "$TMP/deep.err")"
timeout 10 "$GPPSIM" simulate --plan "$PLAN" --cluster "$TMP/deepmap.yaml" \
  > /dev/null 2> "$TMP/deep.err"
expect $? 2 "$TMP/deep.err" "deeply nested cluster"
grep -q "deepmap.yaml:66:.*nested deeper" "$TMP/deep.err" ||
  fail "deep cluster: $(cat "$TMP/deep.err")"

# ---- 7. HDF5 row counts and values are checked against the file -------
sim --out "$TMP/res.h5" > /dev/null 2>&1 || fail "simulate --out"
"$PY" - "$TMP/res.h5" "$TMP/forged.h5" <<'PYEOF' || fail "forging /tasks"
import sys, h5py
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "w") as b:
    for k in a:
        if k != "tasks":
            a.copy(k, b)
    b.create_dataset("tasks", shape=(10**8,), dtype=a["tasks"].dtype)
PYEOF
timeout 10 "$GPPSIM" validate compare "$TMP/res.h5" "$TMP/forged.h5" \
  > /dev/null 2> "$TMP/forged.err"
expect $? 2 "$TMP/forged.err" "/tasks claiming 10^8 rows"
grep -q "forged.h5.*tasks.*100000000 rows" "$TMP/forged.err" ||
  fail "/tasks claiming 10^8 rows: $(cat "$TMP/forged.err")"
"$SYNTH" "$SRC/configs/models/synthetic.yaml" v100-sxm2-16gb "$TMP/p.h5" \
  > /dev/null || fail "synth_profile"
"$PY" - "$TMP/p.h5" "$TMP" <<'PYEOF' || fail "forging profiles"
import sys, h5py
src, out = sys.argv[1], sys.argv[2]
def copy(name, ops):
    with h5py.File(src, "r") as a, h5py.File(out + "/" + name, "w") as b:
        for k, v in a.attrs.items():
            b.attrs[k] = v
        ops(a["ops"], b)
def rows(n):
    return lambda o, b: b.create_dataset("ops", shape=(n,), dtype=o.dtype)
def huge(o, b):
    d = o[:]
    d["fwd_median"][0] = 1e308
    b.create_dataset("ops", data=d)
copy("rows8.h5", rows(10**8))
copy("rows40.h5", rows(2**40))
copy("huge.h5", huge)
PYEOF
for f in rows8 rows40 huge; do
  timeout 10 "$GPPSIM" simulate --plan "$PLAN" --cluster "$CLUSTER" \
    --profile "$TMP/$f.h5" > /dev/null 2> "$TMP/$f.err"
  expect $? 2 "$TMP/$f.err" "profile $f"
  grep -q "$f.h5.*/ops" "$TMP/$f.err" || fail "profile $f: $(cat "$TMP/$f.err")"
done

# ---- 8. output paths are checked before any work, one exit status ----
for out in "" "$TMP"; do
  for opt in --out --trace; do
    sim $opt "$out" > "$TMP/o8.out" 2> "$TMP/o8.err"
    expect $? 2 "$TMP/o8.err" "simulate $opt '$out'"
    [ -s "$TMP/o8.out" ] && fail "simulate $opt '$out' ran before failing"
  done
done
for opt in --out --trace; do
  sim $opt "$TMP/no/such/dir/x" > "$TMP/o8.out" 2> "$TMP/o8.err"
  expect $? 1 "$TMP/o8.err" "simulate $opt into a missing folder"
  [ -s "$TMP/o8.out" ] && fail "simulate $opt: ran before failing"
  grep -q "no/such/dir/x: No such file or directory" "$TMP/o8.err" ||
    fail "simulate $opt: no path and reason: $(cat "$TMP/o8.err")"
done
"$GPPSIM" plan --model "$SRC/configs/models/synthetic.yaml" \
  --cluster "$CLUSTER" --gpus 4 --batch 32 --out "$TMP/no/such/p.yaml" \
  > "$TMP/o8.out" 2> "$TMP/o8.err"
expect $? 1 "$TMP/o8.err" "plan --out into a missing folder"
[ -s "$TMP/o8.out" ] && fail "plan --out: planned before failing"
"$GPPSIM" sweep "$TINY" --out "$TMP/no/such/s.h5" > "$TMP/o8.out" \
  2> "$TMP/o8.err"
expect $? 1 "$TMP/o8.err" "sweep --out into a missing folder"
"$GPPSIM" sweep "$TINY" --out "" > /dev/null 2> "$TMP/o8.err"
expect $? 2 "$TMP/o8.err" "sweep --out ''"
# Output folders: one status for a folder that cannot be made (1, with the
# path and reason) and one for a name that is not a folder (2), in demo and
# reproduce alike, before any planning.
for cmd in "demo --gpus 4" "reproduce all --no-plots"; do
  $GPPSIM $cmd --out "$TMP/no/such/d" > "$TMP/o8.out" 2> "$TMP/o8.err"
  expect $? 1 "$TMP/o8.err" "$cmd --out into a missing folder"
  grep -q "no/such/d: No such file or directory" "$TMP/o8.err" ||
    fail "$cmd --out into a missing folder: $(cat "$TMP/o8.err")"
  [ -s "$TMP/o8.out" ] && fail "$cmd: worked before failing"
  $GPPSIM $cmd --out "$TMP/o8.out" > /dev/null 2> "$TMP/o8.err"
  expect $? 2 "$TMP/o8.err" "$cmd --out a regular file"
done
"$GPPSIM" validate compare "$TMP/res.h5" "$TMP/res.h5" \
  --scatter "$TMP/no/such/s.png" > "$TMP/o8.out" 2> "$TMP/o8.err"
expect $? 1 "$TMP/o8.err" "validate compare --scatter into a missing folder"
[ -s "$TMP/o8.out" ] && fail "validate --scatter: compared before failing"

# ---- 8b. work beyond the task limit is refused at the batch line ------
sim --max-tasks 100 > /dev/null 2> "$TMP/lim.err"
expect $? 2 "$TMP/lim.err" "plan beyond --max-tasks 100"
line=$(grep -n '^batch:' "$PLAN" | cut -d: -f1)
grep -q "synthetic-gpp-8.yaml:$line:8: batch 64 expands into 264 tasks.*the limit is 100 (raise it with --max-tasks)" \
  "$TMP/lim.err" || fail "plan beyond --max-tasks: $(cat "$TMP/lim.err")"
sim --max-tasks 264 > /dev/null 2>&1 || fail "plan at exactly --max-tasks"
sed "s/^batch:.*/batch: 1000000000/; s|^model: |model: $SRC/|" "$PLAN" \
  > "$TMP/big.yaml"
timeout 10 "$GPPSIM" simulate --plan "$TMP/big.yaml" --cluster "$CLUSTER" \
  > /dev/null 2> "$TMP/big.err"
expect $? 2 "$TMP/big.err" "batch 10^9"
grep -q "big.yaml:$line:8: batch 1000000000 expands into 4000000008 tasks.*the limit is 16777216" \
  "$TMP/big.err" || fail "batch 10^9: $(cat "$TMP/big.err")"
# Long runs report progress on stderr (after 2 s), --quiet silences it.
sed "s/^batch:.*/batch: 3000000/; s|^model: |model: $SRC/|" "$PLAN" \
  > "$TMP/long.yaml"
t0=$(date +%s)
"$GPPSIM" simulate --plan "$TMP/long.yaml" --cluster "$CLUSTER" \
  > /dev/null 2> "$TMP/long.err" || fail "12M-task plan: $(tail -1 "$TMP/long.err")"
took=$(($(date +%s) - t0))
n=$(grep -c "^simulate: [0-9]* of 12000008 tasks ([0-9]*%), [0-9]* s$" "$TMP/long.err")
if [ "$took" -ge 4 ]; then
  [ "$n" -ge 1 ] || fail "a ${took}-s simulation printed no progress"
else
  echo "note: the 12M-task run took ${took} s; progress starts at 2 s of the loop"
fi
"$GPPSIM" simulate --plan "$TMP/long.yaml" --cluster "$CLUSTER" --quiet \
  > /dev/null 2> "$TMP/long.err" || fail "12M-task plan, --quiet"
[ -s "$TMP/long.err" ] && fail "simulate --quiet printed: $(head -2 "$TMP/long.err")"

# ---- 9. limits checked where the value is read; orphans cleaned ------
sed 's/^nodes:.*/nodes: 8193/' "$SRC/configs/clusters/dgx-a100.yaml" \
  > "$TMP/huge.yaml"
line=$(grep -n '^nodes:' "$TMP/huge.yaml" | cut -d: -f1)
timeout 10 "$GPPSIM" simulate --plan "$PLAN" --cluster "$TMP/huge.yaml" \
  > /dev/null 2> "$TMP/huge.err"
expect $? 2 "$TMP/huge.err" "cluster of 65,544 GPUs"
grep -q "huge.yaml:$line:8: 8193 nodes x 8 GPUs is more than 65536" \
  "$TMP/huge.err" || fail "cluster of 65,544 GPUs: $(cat "$TMP/huge.err")"
sed 's/^peak_fp32:.*/peak_fp32: 0 TFLOP\/s/' \
  "$SRC/configs/hardware/a100-sxm-80gb.yaml" > "$TMP/zero.yaml"
line=$(grep -n '^peak_fp32:' "$TMP/zero.yaml" | cut -d: -f1)
sed "s|^gpu:.*|gpu: $TMP/zero.yaml|" "$CLUSTER" > "$TMP/zc.yaml"
"$GPPSIM" simulate --plan "$PLAN" --cluster "$TMP/zc.yaml" > /dev/null \
  2> "$TMP/zero.err"
expect $? 2 "$TMP/zero.err" "peak_fp32: 0"
grep -q "zero.yaml:$line:12: peak_fp32" "$TMP/zero.err" ||
  fail "peak_fp32: 0: $(cat "$TMP/zero.err")"
sleep 60 &
dead=$!
kill -9 $dead
wait $dead 2> /dev/null
: > "$TMP/orphan.h5.tmp.$dead"
: > "$TMP/orphan.h5.tmp.$$"
sim --out "$TMP/orphan.h5" > /dev/null 2>&1 || fail "simulate --out orphan"
[ -e "$TMP/orphan.h5.tmp.$dead" ] && fail "a killed run's temporary stayed"
[ -e "$TMP/orphan.h5.tmp.$$" ] || fail "a running process's temporary went"

finish cli_faults
