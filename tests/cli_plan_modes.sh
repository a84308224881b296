#!/bin/sh
# cli_plan_modes.sh -- the per-stage modes (tensor degree, sharding,
# recompute) of each planner (GraphPipe, PipeDream, Piper) through `gppsim
# plan`, on a wide GPT in bf16 (hidden 8192, 64 heads, FFN 32768, seq
# 2048; 0.8 B weights per layer) on DGX H100 nodes:
# - memory: 12 layers on 2 GPUs at batch 8 fit in no default plan (the
#   plan command exits 3 with --no-stage-modes); with modes
#   the plan shards or recomputes, `gppsim simulate` replays it without
#   running out of memory, and the planner's estimate is within 5% of it;
# - speed: 8 layers on 8 GPUs at batch 16, micro-batch 4, fit without
#   modes, yet the plan takes tensor parallelism because it is faster:
#   faster in simulation than the plan without modes, the estimate within
#   5%;
# - --explain names the modes, --help documents --no-stage-modes.
# Usage: cli_plan_modes.sh GPPSIM
set -u
GPPSIM=$1
PY=/usr/bin/python3
. "$(dirname "$0")/lib.sh"

# json FILE KEY: one value of a JSON object.
json() {
  "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$1" "$2"
}

# within5 EST SIM: |EST / SIM - 1| <= 5%.
within5() {
  "$PY" -c 'import sys; e, s = map(float, sys.argv[1:]); sys.exit(0 if s > 0 and abs(e / s - 1) <= 0.05 else 1)' "$1" "$2"
}

model() { # LAYERS > file
  cat <<EOF
name: wide$1
precision: bf16
graph:
  - {input: tokens, tokens: 2048, width: 1}
  - {embedding_bag: wte, rows: 50257, dim: 8192, bag: 1}
  - transformer: h
    layers: $1
    seq: 2048
    hidden: 8192
    heads: 64
    ffn: 32768
  - {op: ln_f, kind: layernorm}
  - {linear: lm_head, out: 50257, bias: false}
  - {loss: loss}
EOF
}
model 12 > "$TMP/wide12.yaml"
model 8 > "$TMP/wide8.yaml"

# plan NAME MODEL GPUS BATCH [ARGS...]: $TMP/NAME.{yaml,json}, with
# planner $P.
plan() {
  n=$1 m=$2 g=$3 b=$4
  shift 4
  "$GPPSIM" plan --model "$TMP/$m.yaml" --cluster dgx-h100 --gpus "$g" \
    --batch "$b" --planner "$P" --out "$TMP/$n.yaml" --json "$@" \
    > "$TMP/$n.json" 2> "$TMP/$n.err" ||
    fail "plan $n exited $?: $(tail -1 "$TMP/$n.err")"
}

# replay NAME: simulates $TMP/NAME.yaml (no --allow-oom) and checks that
# the planner's estimate (est) is within 5% of the simulated iteration
# (sim); false when either fails.
replay() {
  if ! "$GPPSIM" simulate --plan "$TMP/$1.yaml" --cluster dgx-h100 --json \
    > "$TMP/$1.sim" 2> "$TMP/$1.simerr"; then
    fail "simulate $1 exited $?: $(tail -1 "$TMP/$1.simerr")"
    return 1
  fi
  est=$(json "$TMP/$1.json" iteration_estimate)
  sim=$(json "$TMP/$1.sim" iteration_time)
  within5 "$est" "$sim" && return 0
  fail "$1: estimate $est s vs simulated $sim s"
  return 1
}

for P in graphpipe pipedream piper; do
# --- memory: nothing fits without sharding or recompute ---
"$GPPSIM" plan --model "$TMP/wide12.yaml" --cluster dgx-h100 --gpus 2 \
  --batch 8 --planner "$P" --no-stage-modes > /dev/null 2> "$TMP/mem-off.err"
rc=$?
[ "$rc" -eq 3 ] && grep -q "no plan found" "$TMP/mem-off.err" ||
  fail "$P: without modes 12 layers on 2 GPUs should find no plan (exit $rc)"
plan mem-$P wide12 2 8
[ "$(json "$TMP/mem-$P.json" oom)" = False ] || fail "$P: with modes it should fit"
grep -Eq "^    (sharding|recompute): " "$TMP/mem-$P.yaml" ||
  fail "$P: the plan neither shards nor recomputes: $(cat "$TMP/mem-$P.yaml")"
replay mem-$P && echo "$P memory case: estimate $est s, simulated $sim s"

# --- speed: tensor parallelism where it is faster ---
plan tp-off-$P wide8 8 16 --micro-batch 4 --no-stage-modes
[ "$(json "$TMP/tp-off-$P.json" oom)" = False ] ||
  fail "$P: the 8-layer plan should fit without modes"
plan tp-$P wide8 8 16 --micro-batch 4
grep -Eq "^    tensor: [248]$" "$TMP/tp-$P.yaml" ||
  fail "$P: no tensor parallelism in $(cat "$TMP/tp-$P.yaml")"
if replay tp-$P; then
  off=$(json "$TMP/tp-off-$P.json" iteration_simulated)
  "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' \
    "$sim" "$off" || fail "$P: TP plan $sim s not faster than without modes $off s"
  echo "$P TP case: estimate $est s, simulated $sim s (without modes $off s)"
fi

# --- --explain names the modes ---
"$GPPSIM" plan --model "$TMP/wide8.yaml" --cluster dgx-h100 --gpus 8 \
  --batch 16 --micro-batch 4 --planner "$P" --refine 0 --explain \
  > "$TMP/explain.txt" 2>/dev/null || fail "$P: plan --explain exited $?"
grep -q "memory  mode" "$TMP/explain.txt" || fail "$P: --explain has no mode column"
grep -Eq " tp[248]( |$)" "$TMP/explain.txt" || fail "$P: --explain shows no tp mode"
done

# --- --help ---
"$GPPSIM" plan --help | grep -q -- "--no-stage-modes" ||
  fail "--help does not document --no-stage-modes"

finish cli_plan_modes
