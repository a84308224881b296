#!/bin/sh
# cli_validate_published.sh -- the `decoder` generator (parameters and
# GEMM FLOPs against the hand count), the a100-roce-1600 cluster, and
# `gppsim validate published` on a subset of the published MPT runs: JSON
# shape, predictions pinned (bit-identical reruns), every run fits, and
# located errors for bad rows.
# usage: cli_validate_published.sh GPPSIM SOURCE_DIR
set -u
GPPSIM=$1
SRC=$2
PY=/usr/bin/python3
. "$(dirname "$0")/lib.sh"

# The decoder generator: MPT-7B's shape.  Hand count: 12 L h^2 (attention
# and MLP, no biases) + 2 V h (token embedding, untied LM head) + 4 h per
# layer (two layernorms' gain and bias) + 2 h (final layernorm).
cat > "$TMP/d.yaml" <<'YEOF'
name: mpt-7b
precision: bf16
graph:
  - decoder: m
    layers: 32
    d_model: 4096
    heads: 32
    ffn_mult: 4
    vocab: 50368
    seq: 2048
    bias: false
    positions: alibi
    attention: flash
YEOF
"$GPPSIM" model show "$TMP/d.yaml" --json > "$TMP/d.json" || fail "model show exit $?"
"$PY" - "$TMP/d.json" <<'PYEOF' || fail "decoder: parameters or FLOPs"
import json, sys
d = json.load(open(sys.argv[1]))
L, h, V, s = 32, 4096, 50368, 2048
params = 12 * L * h * h + 2 * V * h + 4 * h * L + 2 * h
assert d["param_count"] == params, (d["param_count"], params)
gemm = L * (24 * s * h * h + 4 * s * s * h) + 2 * s * h * V
f = d["flops_fwd_per_sample"]
assert gemm <= f <= 1.001 * gemm, (f, gemm)
assert d["ops"] == 2 + 8 * L + 3, d["ops"]  # tokens, wte, layers, ln_f, head, loss
PYEOF
# Learned positions add wpe and the embedding sum; biases add 9 h per layer.
sed 's/positions: alibi/positions: learned/; s/bias: false/bias: true/' \
  "$TMP/d.yaml" > "$TMP/d2.yaml"
"$GPPSIM" model show "$TMP/d2.yaml" --json > "$TMP/d2.json" || fail "learned"
"$PY" - "$TMP/d.json" "$TMP/d2.json" <<'PYEOF' || fail "decoder: positions, bias"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
L, h, s = 32, 4096, 2048
assert b["param_count"] - a["param_count"] == s * h + L * (4 * h + 5 * h), \
    b["param_count"] - a["param_count"]
assert b["ops"] == a["ops"] + 2
PYEOF
printf 'name: x\ngraph:\n  - {decoder: m, layers: 2, d_model: 100, heads: 3, vocab: 10, seq: 8}\n' > "$TMP/bad.yaml"
"$GPPSIM" model show "$TMP/bad.yaml" > /dev/null 2> "$TMP/err"
[ $? -eq 2 ] && grep -q "bad.yaml:3:.*heads: expected a divisor of d_model" "$TMP/err" ||
  fail "decoder heads check: $(cat "$TMP/err")"
printf 'name: x\ngraph:\n  - {decoder: m, layers: 2, d_model: 64, heads: 4, vocab: 10, seq: 8, ffn: 9, ffn_mult: 2}\n' > "$TMP/bad.yaml"
"$GPPSIM" model show "$TMP/bad.yaml" > /dev/null 2> "$TMP/err"
[ $? -eq 2 ] && grep -q "give ffn or ffn_mult" "$TMP/err" || fail "ffn and ffn_mult"

# validate published on four runs of the bundled table (7B and 3B on 8
# GPUs, with and without checkpointing).
T=$SRC/validate/published/mpt-a100.csv
grep '^#' "$T" > "$TMP/sub.csv"
grep '^name,' "$T" >> "$TMP/sub.csv"
grep -E '^mpt-(7b-s2048|7b-s8192|3b-s8192|3b-s65536)-g8,' "$T" | grep ',a100-sxm-80gb,' >> "$TMP/sub.csv"
"$GPPSIM" validate published "$TMP/sub.csv" --json > "$TMP/a.json" 2> "$TMP/a.err" ||
  fail "validate published exit $?: $(cat "$TMP/a.err")"
"$GPPSIM" validate published "$TMP/sub.csv" --json > "$TMP/b.json" 2>/dev/null
cmp -s "$TMP/a.json" "$TMP/b.json" || fail "validate published not bit-identical"
"$PY" - "$TMP/a.json" <<'PYEOF' || fail "validate published: JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["rows"]) == 4, d
for r in d["rows"]:
    assert set(r) == {"name", "measured", "predicted", "error", "peak_memory",
                      "fits"}, r
    assert r["fits"], r
    assert 0 < r["peak_memory"] <= 80 * 2**30, r
    assert abs(r["predicted"] / r["measured"] - 1 - r["error"]) < 1e-12, r
    print("%-20s measured %6.0f predicted %6.0f (%+.1f%%)" % (
        r["name"], r["measured"], r["predicted"], 100 * r["error"]))
e = sorted(abs(r["error"]) for r in d["rows"])
assert abs(d["max_abs_error"] - e[-1]) < 1e-12
assert abs(d["median_abs_error"] - (e[1] + e[2]) / 2) < 1e-12
PYEOF
"$GPPSIM" validate published "$TMP/sub.csv" --markdown > "$TMP/md" 2>/dev/null ||
  fail "--markdown"
grep -q '^| mpt-7b-s2048-g8 | 4641 |' "$TMP/md" || fail "markdown row"
grep -q '^| checkpointing off |' "$TMP/md" || fail "markdown groups"

# The whole bundled table (139 runs, 8-128 GPUs; seconds since FSDP's
# collectives are one per layer for all replicas): every run fits, and the
# group table validate/published/README.md states is the one printed.
"$GPPSIM" validate published "$T" --markdown > "$TMP/all.md" 2> "$TMP/all.err" ||
  fail "whole table exit $?: $(tail -1 "$TMP/all.err")"
[ "$(grep -c '| yes |$' "$TMP/all.md")" -eq 139 ] ||
  fail "whole table: not 139 runs that fit"
sed -n '/^| group |/,/^| all |/p' "$TMP/all.md" > "$TMP/groups.md"
sed -n '/^| group |/,/^| all |/p' "$SRC/validate/published/README.md" \
  > "$TMP/readme.md"
[ -s "$TMP/groups.md" ] && cmp -s "$TMP/groups.md" "$TMP/readme.md" ||
  fail "validate/published/README.md's group table differs from the run: $(diff "$TMP/readme.md" "$TMP/groups.md" | head -5)"

# A run that cannot fit: 70B unsharded on 8 A100s, through the plan path.
grep '^name,' "$T" > "$TMP/oom.csv"
grep '^mpt-70b-s2048-g64,' "$T" | sed 's/,64,a100-sxm-80gb,/,8,a100-sxm-80gb,/; s/,2048,bf16/,256,bf16/; s/full_shard/none/' >> "$TMP/oom.csv"
"$GPPSIM" validate published "$TMP/oom.csv" --json > "$TMP/oom.json" 2>/dev/null ||
  fail "oom table exit $?"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["rows"][0]; sys.exit(0 if not r["fits"] and r["peak_memory"] > 80*2**30 else 1)' \
  "$TMP/oom.json" || fail "70B unsharded on 8 GPUs predicted to fit"
# A row whose global batch is not ranks x micro-batch x accumulation (a
# fuzzed row asked 12,488 GPUs for a batch of 8) is located, not run.
grep '^name,' "$T" > "$TMP/batch.csv"
grep '^mpt-125m-' "$T" | head -1 | awk -F, 'BEGIN{OFS=","} {$14 = $14 + 1; print}' >> "$TMP/batch.csv"
"$GPPSIM" validate published "$TMP/batch.csv" > /dev/null 2> "$TMP/batch.err"
[ $? -eq 2 ] || fail "an inconsistent global_batch must exit 2"
grep -q "batch.csv:2:.*global_batch: .* is not the data-parallel ranks" "$TMP/batch.err" ||
  fail "inconsistent global_batch message: $(cat "$TMP/batch.err")"

# Bad rows: exit 2 naming the line.
bad() {
  { grep '^name,' "$T"; grep '^mpt-7b-s2048-g8,.*,a100-sxm-80gb,' "$T" | sed "$2"; } > "$TMP/bad.csv"
  "$GPPSIM" validate published "$TMP/bad.csv" > /dev/null 2> "$TMP/err"
  rc=$?
  [ $rc -eq 2 ] || fail "$1: exit $rc, expected 2"
  grep -q "$3" "$TMP/err" || fail "$1: '$(cat "$TMP/err")' lacks '$3'"
}
bad "bad sharding" 's/full_shard/zero9/' "bad.csv:2:.*sharding: 'zero9'"
bad "bad gpu" 's/a100-sxm-80gb/a100-sxm-99gb/' "bad.csv:2: run 'mpt-7b-s2048-g8'"
bad "bad number" 's/,4096,32,32,/,4096,3x2,32,/' "bad.csv:2:.*n_layers: '3x2' is not a number"
bad "bad cluster" 's/a100-roce-1600/no-such-cluster/' "bad.csv:2: run 'mpt-7b-s2048-g8'"
bad "heads" 's/,4096,32,32,/,4096,32,31,/' "bad.csv:2: run 'mpt-7b-s2048-g8'"
bad "positions" 's/,learned,2,/,rope,2,/' "bad.csv:2:.*positions: 'rope', expected one of alibi, learned"
bad "train_metrics" 's/,learned,2,/,learned,-1,/' "bad.csv:2:.*train_metrics"
bad "reduce_dtype" 's/,fp32$/,fp64/' "bad.csv:2:.*reduce_dtype: 'fp64', expected one of weights, fp32, bf16, fp16"
"$GPPSIM" validate published --help | grep -q "usage: gppsim validate published" ||
  fail "--help"
"$GPPSIM" validate published > /dev/null 2>&1
[ $? -eq 2 ] || fail "no table: not exit 2"

finish cli_validate_published
