#!/bin/sh
# cli_parallel.sh -- `gppsim simulate` with parallelism inside a stage: a
# 6.4B-parameter decoder (32 x [hidden 4096, FFN 16384], seq 2048, bf16) on
# 8 A100 80 GB of a DGX-A100 cluster.  FSDP (sharding full) with full
# recomputation fits; unsharded it does not, and the memory error names the
# device and the shortfall (exit 2); tensor parallelism with sequence
# parallelism runs; bad parallelism keys exit 2 at file:line:column.
# Usage: cli_parallel.sh GPPSIM SOURCE_DIR
set -u
GPPSIM=$1
SRC=$2
export GPP_SOURCE_DIR="$SRC"
CLUSTER="$SRC/configs/clusters/dgx-a100.yaml"
. "$(dirname "$0")/lib.sh"

cat > "$TMP/llm.yaml" <<'YAML'
name: llm-6b
precision: bf16
graph:
  - {input: x, tokens: 2048, width: 4096}
  - transformer: h
    layers: 32
    seq: 2048
    hidden: 4096
    heads: 32
    ffn: 16384
  - {loss: loss}
YAML

# plan NAME STAGE_KEYS: a one-stage plan on GPUs 0-7.
plan() {
  printf 'model: llm.yaml\nbatch: 64\nmicro_batch: 16\nschedule: gpipe\n%s\n%s\n' \
    'stages:' \
    "  - {name: all, ops: [\"*\"], devices: [0, 1, 2, 3, 4, 5, 6, 7]$2}" \
    > "$TMP/$1.yaml"
}

sim() {
  "$GPPSIM" simulate --cluster "$CLUSTER" --plan "$TMP/$1.yaml" --json \
    > "$TMP/$1.json" 2> "$TMP/$1.err"
}

# The JSON's every device peak below the A100's 80 GiB.
fits() {
  /usr/bin/python3 - "$TMP/$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
peaks = [x["peak_mem"] for x in d["devices"][:8]]
assert not d["oom"] and max(peaks) < 80 * 2**30, peaks
assert d["iteration_time"] > 0
PY
}

plan fsdp ", sharding: full, recompute: full"
sim fsdp || fail "fsdp: exit $?: $(cat "$TMP/fsdp.err")"
fits fsdp || fail "fsdp: does not fit"

plan tp ", tensor: 8, sequence_parallel: true, recompute: selective"
sim tp || fail "tp: exit $?: $(cat "$TMP/tp.err")"
fits tp || fail "tp: does not fit"

# Buyer figures: tokens/s is samples/s times the 2048-token sequence; MFU
# is the model's FLOPs per second per GPU over the A100's 312 TFLOP/s bf16
# peak (the plan trains in the model's bf16); HFU adds the recomputed
# forwards: all of them under full recomputation (the backward is twice
# the forward, so HFU/MFU is just under 4/3: the input and loss layers
# re-run nothing), the attention cores only under selective.
util() {
  /usr/bin/python3 - "$TMP/$1.json" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
lo, hi = float(sys.argv[2]), float(sys.argv[3])
assert d["precision"] == "bf16" and d["peak_flops_per_gpu"] == 312e12, d
assert abs(d["tokens_per_s"] - 2048 * d["samples_per_s"]) <= 1e-9 * d["tokens_per_s"]
mfu = d["model_flops"] / d["iteration_time"] / 8 / 312e12
assert abs(d["mfu"] - mfu) <= 1e-12 and 0 < mfu < 1, (d["mfu"], mfu)
r = d["hfu"] / d["mfu"]
assert lo < r <= hi, r
PY
}
util fsdp 1.33 1.3334 || fail "fsdp: tokens/s, MFU or HFU wrong"
util tp 1.01 1.2 || fail "tp: tokens/s, MFU or HFU wrong"
plan dp ", sharding: full"
"$GPPSIM" simulate --cluster "$CLUSTER" --plan "$TMP/dp.yaml" --json \
  --allow-oom --train-tokens 1e9 > "$TMP/dp.json" 2> "$TMP/dp.err" ||
  fail "dp: exit $?: $(cat "$TMP/dp.err")"
util dp 0.9999999 1 || fail "dp: HFU differs from MFU without recomputation"
"$GPPSIM" simulate --cluster "$CLUSTER" --plan "$TMP/fsdp.yaml" \
  --train-tokens 2e9 > "$TMP/fsdp.txt" 2>&1 || fail "fsdp text: exit $?"
for line in "^tokens/s .*(2048 tokens per sample)" "^MFU  *[0-9.]*% .*of a 312 T peak" \
    "^HFU  *[0-9.]*% (with recomputation)" \
    "^train  *2 G tokens in .* at 5.12 per GPU-hour x 32 GPUs"; do
  grep -q "$line" "$TMP/fsdp.txt" || fail "fsdp text lacks '$line': $(cat "$TMP/fsdp.txt")"
done
for bad in 0 2x; do
  "$GPPSIM" simulate --cluster "$CLUSTER" --plan "$TMP/fsdp.yaml" \
    --train-tokens $bad > /dev/null 2> "$TMP/tt.err"
  rc=$?
  [ $rc -eq 2 ] && grep -q "train-tokens '$bad'" "$TMP/tt.err" ||
    fail "--train-tokens $bad: exit $rc: $(cat "$TMP/tt.err")"
done
/usr/bin/python3 - "$TMP/dp.json" <<'PY' || fail "dp: time and cost to train 1e9 tokens wrong"
import json, sys
d = json.load(open(sys.argv[1]))
t = 1e9 / d["tokens_per_s"]
assert abs(d["time_to_train_tokens_s"] - t) <= 1e-9 * t, d
# dgx-a100.yaml: 5.12 per GPU-hour, 32 GPUs rented.
assert abs(d["cost_to_train_tokens"] - t / 3600 * 5.12 * 32) <= 1e-6, d
PY

plan none ", recompute: full"
sim none
rc=$?
[ "$rc" -eq 2 ] || fail "unsharded: exit $rc, expected 2"
grep -q "device [0-7] needs .* at its peak but the a100-sxm-80gb has 80 GiB: short by" \
  "$TMP/none.err" || fail "unsharded: no device and shortfall: $(cat "$TMP/none.err")"

# bad NAME STAGE_KEYS MESSAGE: exit 2 with plan:6:COL and the message.
bad() {
  plan "$1" "$2"
  sim "$1"
  rc=$?
  [ "$rc" -eq 2 ] || fail "$1: exit $rc, expected 2"
  grep -q "$1.yaml:6:[0-9]*: .*$3" "$TMP/$1.err" ||
    fail "$1: no file:line:column with '$3': $(cat "$TMP/$1.err")"
}
bad tensor3 ", tensor: 3" "tensor 3 does not divide its 8 devices"
bad sp ", sequence_parallel: true" "sequence_parallel needs tensor > 1"
bad shard ", sharding: zero3" "sharding"
bad recompute ", recompute: half" "recompute"

finish cli_parallel
