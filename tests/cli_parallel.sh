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
