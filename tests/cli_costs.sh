#!/bin/sh
# cli_costs.sh -- `gppsim costs` end to end: kernel-model costs of a bundled
# model, the same with a synthetic profile (sources, extrapolation flag,
# source counts, calibration report, JSON), and exit status 2 for bad,
# damaged or foreign input, naming what is wrong.  (That a profiled op costs
# exactly its profiled median is tests/test_profile.c, suite `costs`.)
# usage: cli_costs.sh GPPSIM SYNTH_PROFILE SOURCE_DIR
set -u
GPPSIM=$1
SYNTH=$2
SRC=$3
MODEL=$SRC/configs/models/mmt.yaml
GPU=h100-sxm-80gb
T=$(mktemp -d "${TMPDIR:-/tmp}/gpp_cli_costs.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
PY=/usr/bin/python3

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS DESCRIPTION CMD... : runs CMD, output in $T/out and $T/err.
expect() {
  want=$1; what=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  [ "$got" -eq "$want" ] || { fail "$what: exit $got, expected $want"; \
    sed 's/^/  | /' "$T/err"; }
}

has() { grep -q -- "$2" "$T/$1" || fail "$3: '$2' not in $1"; }
lacks() { grep -q -- "$2" "$T/$1" && fail "$3: '$2' in $1"; }

# The kernel model only.
expect 0 "model" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --micro-batch 1,8
has out " model " "model"
lacks out " profile " "model"
has out "extrapolated" "model header"
has out "ops by source: override=0 profile=0 model=262$" "model counts"

# Precision drives speed (configs/experiments/plans/README.md): a GPT
# matmul on the H100 runs on the SIMT pipes in fp32, on tensor cores in tf32, bf16 and fp8, each
# faster than the last; layernorm moves half the bytes in bf16; an A100 has
# no fp8 peak.
GPT=$SRC/configs/models/gpt.yaml
for p in fp32 tf32 bf16 fp8; do
  expect 0 "costs --precision $p" "$GPPSIM" costs --model "$GPT" --gpu $GPU \
    --micro-batch 8 --precision $p --json
  cp "$T/out" "$T/prec-$p.json"
done
has "prec-bf16.json" '"precision": "bf16"' "costs --precision in JSON"
"$PY" - "$T" <<'PYEOF' || fail "costs --precision: op times do not follow it"
import json, sys
def op(p, name):
    d = json.load(open("%s/prec-%s.json" % (sys.argv[1], p)))
    return next(o for o in d["ops"] if o["op"] == name)
fc1 = [op(p, "h.l0.fc1")["fwd"] for p in ("fp32", "tf32", "bf16", "fp8")]
assert fc1[0] > 3 * fc1[1] > 0 and fc1[1] > 1.5 * fc1[2] and \
    fc1[2] > 1.3 * fc1[3], fc1
ln = [op(p, "h.l0.ln1")["fwd"] for p in ("fp32", "bf16")]
assert ln[0] > 1.5 * ln[1], ln
assert op("tf32", "h.l0.ln1")["fwd"] == ln[0]
PYEOF
expect 2 "fp8 on an A100" "$GPPSIM" costs --model "$GPT" \
  --gpu a100-sxm-80gb --precision fp8
has err "has no fp8 peak" "fp8 on an A100"
expect 2 "unknown precision" "$GPPSIM" costs --model "$GPT" --gpu $GPU \
  --precision int4
has err "unknown precision 'int4'" "unknown precision"

expect 0 "one size" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --micro-batch 4
grep -E '^branch0\.enc\.l0\.attn +attention +4 ' "$T/out" >/dev/null ||
  fail "--micro-batch 4: attention row missing"

# MMT on the V100 (the issue's figure): the summed per-sample time at
# micro-batch 1 is at least 1.15x that at 32, from waves and tile fill.
expect 0 "mmt v100" "$GPPSIM" costs --model "$MODEL" --gpu v100-sxm2-16gb \
  --micro-batch 1,32 --json
"$PY" - "$T/out" <<'PYEOF' || fail "MMT/V100 per-sample mb1/mb32 under 1.15"
import json, sys
s = {}
for o in json.load(open(sys.argv[1]))["ops"]:
    b = o["micro_batch"]
    s[b] = s.get(b, 0) + (o["fwd"] + o["bwd"]) / b
assert s[1] >= 1.15 * s[32], s[1] / s[32]
PYEOF
expect 0 "explain" "$GPPSIM" costs --model "$MODEL" --gpu v100-sxm2-16gb \
  --micro-batch 1 --explain
has out "waves" "explain"

# Attention kernels: `attention: flash` model-wide, `unfused` on one
# transformer and on one explicit op; a fused core is faster than GEMMs and
# a softmax through HBM at sequence 2048, and the choice is per op.
cat > "$T/fl.yaml" <<'YEOF'
name: fl
precision: bf16
attention: flash
graph:
  - {input: x, tokens: 2048, width: 4096}
  - {transformer: a, layers: 1, heads: 32, ffn: 16384}
  - {transformer: b, layers: 1, heads: 32, ffn: 16384, attention: unfused}
  - {op: c, kind: attention, shape: {heads: 32}, attention: unfused}
  - {loss: loss}
YEOF
expect 0 "flash" "$GPPSIM" costs --model "$T/fl.yaml" --gpu $GPU \
  --micro-batch 4 --json
"$PY" - "$T/out" <<'PYEOF' || fail "flash vs unfused attention"
import json, sys
t = {o["op"]: o["fwd"] for o in json.load(open(sys.argv[1]))["ops"]}
assert t["a.l0.attn"] < t["b.l0.attn"], t
assert t["b.l0.attn"] == t["c"], t
PYEOF
sed 's/^attention: flash$/attention: unfused/' "$T/fl.yaml" > "$T/uf.yaml"
expect 0 "unfused" "$GPPSIM" costs --model "$T/uf.yaml" --gpu $GPU \
  --micro-batch 4 --json
"$PY" - "$T/out" <<'PYEOF' || fail "model-wide unfused attention"
import json, sys
t = {o["op"]: o["fwd"] for o in json.load(open(sys.argv[1]))["ops"]}
assert t["a.l0.attn"] == t["b.l0.attn"], t
PYEOF
printf 'name: g\ngraph:\n  - {input: x, tokens: 4, width: 8}\n  - {op: d, kind: gelu, attention: flash}\n' > "$T/bad.yaml"
expect 2 "attention on a gelu" "$GPPSIM" costs --model "$T/bad.yaml" --gpu $GPU
has err "bad.yaml:4:36: attention: only attention ops" "attention on a gelu"
printf 'name: g\nattention: fused\ngraph:\n  - {input: x, tokens: 4, width: 8}\n' > "$T/bad.yaml"
expect 2 "bad attention" "$GPPSIM" costs --model "$T/bad.yaml" --gpu $GPU
has err "bad.yaml:2:12" "bad attention value"

# A synthetic profile: measured ops come from it, interpolated inside the
# profiled sizes (1..16) and flagged outside.
expect 0 "synthetic profile" "$SYNTH" "$MODEL" $GPU "$T/p.h5"
expect 0 "profile" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --profile "$T/p.h5" --micro-batches 4,64
grep -E ' 4 .* profile +no$' "$T/out" >/dev/null || fail "b=4 not profiled"
grep -E ' 64 .* profile +yes$' "$T/out" >/dev/null ||
  fail "b=64 not flagged as extrapolated"
# Every op of mmt but its inputs has a profile row.
has out "ops by source: override=0 profile=258 model=4$" \
  "profile counts"
# The profiled attention at b=4 is not the kernel model's figure.
"$GPPSIM" costs --model "$MODEL" --gpu $GPU --micro-batch 4 >"$T/roof"
a=$(grep -E '^branch0\.enc\.l0\.attn ' "$T/out" | head -1 | awk '{print $4}')
b=$(grep -E '^branch0\.enc\.l0\.attn ' "$T/roof" | awk '{print $4}')
[ -n "$a" ] && [ "$a" != "$b" ] ||
  fail "profiled attention fwd '$a' equals the model's '$b'"

expect 0 "calibrate" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --profile "$T/p.h5" --calibrate
has out "calibration against" "calibrate"
has out "kernel model fitted to 2580 measured times" "calibrate"
# The fit must improve the median error over the default parameters.
"$PY" - "$T/out" <<'PYEOF' || fail "calibrate: median error not improved"
import re, sys
m = re.search(r"median ([0-9.]+)% max [0-9.]+% before, median ([0-9.]+)%",
              open(sys.argv[1]).read())
assert m and float(m.group(2)) < float(m.group(1)), m
PYEOF

expect 0 "json" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --profile "$T/p.h5" --calibrate --json --micro-batches 2
has out '"source": "profile"' "json"
has out '"calibration"' "json"
has out '"mem_eff"' "json"
has out '"converged": true' "json"
has out '"sources"' "json"
has out '"extrapolated": false' "json"

# Bad and damaged input: exit status 2 with a message saying what is wrong.
printf 'name: not-hdf5\n' >"$T/text.h5"
expect 2 "text file as profile" "$GPPSIM" costs --model "$MODEL" \
  --gpu $GPU --profile "$T/text.h5"
has err "not an HDF5 file" "text file"
expect 2 "missing profile" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --profile "$T/absent.h5"
has err "absent.h5: cannot open the profile database" "missing profile"
expect 0 "no-ops file" "$SYNTH" --damaged no-ops "$T/noops.h5"
expect 2 "HDF5 without /ops" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --profile "$T/noops.h5"
has err "noops.h5: missing table /ops" "HDF5 without /ops"
expect 0 "foreign file" "$SYNTH" --damaged foreign "$T/foreign.h5"
expect 2 "foreign HDF5" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --profile "$T/foreign.h5"
has err "foreign.h5: missing attribute 'format_version'" "foreign HDF5"
head -c 4096 "$T/p.h5" >"$T/trunc.h5"
expect 2 "truncated profile" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --profile "$T/trunc.h5"
has err "trunc.h5: cannot open as HDF5" "truncated profile"
# The engine takes its costs from the profile: `gppsim simulate --profile`
# replays MMT with every profiled op's time from it, and faster than the
# kernel model would have it only if the profile says so (compare the stage
# times with the profile's own figures through `gppsim costs`).  The
# profile measured mmt.yaml's fp32 ops, so the plan trains in fp32 (its
# `mixed` would run fp16 ops, which the profile lacks).
PLAN=$T/mmt-gpp-8-fp32.yaml
sed 's/^precision: mixed$/precision: fp32/' \
  "$SRC/configs/experiments/plans/mmt-gpp-8.yaml" >"$PLAN"
H100=$SRC/configs/clusters/dgx-h100.yaml
expect 0 "simulate with profile" "$GPPSIM" simulate --plan "$PLAN" \
  --cluster "$H100" --profile "$T/p.h5" --json
"$PY" - "$T/out" <<'PYEOF' || fail "simulate --profile: costs not from the profile"
import json, sys
d = json.load(open(sys.argv[1]))
src = d["cost_sources"]
assert src["profile"] > 0 and src["override"] == 0, src
PYEOF
has err "warning: the profile was measured on 'synthetic', not on a h100" \
  "simulate: GPU mismatch warning"
expect 2 "simulate with damaged profile" "$GPPSIM" simulate --plan "$PLAN" \
  --cluster "$H100" --profile "$T/trunc.h5"
has err "trunc.h5: cannot open as HDF5" "simulate damaged profile"
expect 2 "calibrate without profile" "$GPPSIM" costs --model "$MODEL" \
  --gpu $GPU --calibrate
expect 2 "bad micro-batches" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --micro-batches 4,x
expect 2 "bad micro-batch" "$GPPSIM" costs --model "$MODEL" --gpu $GPU \
  --micro-batch 0
expect 2 "no model" "$GPPSIM" costs --gpu $GPU
expect 0 "help" "$GPPSIM" costs --help
has out "usage: gppsim costs" "help"

[ "$fails" -eq 0 ] && echo "cli_costs: all passed"
[ "$fails" -eq 0 ]
