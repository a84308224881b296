#!/bin/sh
# cli_sweep.sh -- whole-program checks of `gppsim sweep`: the tiny bundled
# experiment (32 points) gives 32 ok rows whose cost per million samples
# follows price * gpus * iteration / batch; a rerun writes the same /points
# bytes; a sweep killed with SIGKILL and resumed gives the same /points as
# an uninterrupted one; jitter from a synthetic profile gives replications
# with a confidence interval around the mean, reproducible for a seed and
# different for another; a bf16 GPT sweep with a token budget reports
# tokens/s, MFU and the time and cost to train it, and its Pareto plot
# tells two A100 clusters apart; the plots draw, and exit 2 on bad input;
# models and clusters may be bundled names; a bad experiment exits 2 with
# file:line:column.
# Usage: cli_sweep.sh GPPSIM SYNTH_PROFILE SOURCE_DIR
set -u
GPPSIM=$1
SYNTH=$2
SRC=$3
PY=/usr/bin/python3
TINY="$SRC/configs/experiments/sweeps/tiny.yaml"
. "$(dirname "$0")/lib.sh"


# --help and usage errors.
"$GPPSIM" sweep --help | grep -q -- "--resume" || fail "--help lacks --resume"
"$GPPSIM" sweep "$TINY" > /dev/null 2>&1
[ $? -eq 2 ] || fail "missing --out must exit 2"

# The tiny sweep, as JSON: 32 rows, all ok, cost from the price.
"$GPPSIM" sweep "$TINY" --out "$TMP/a.h5" --json > "$TMP/a.json" \
  2> "$TMP/a.err" || fail "tiny sweep exited $?: $(tail -1 "$TMP/a.err")"
"$PY" - "$TMP/a.json" <<'EOF' || fail "tiny sweep rows"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 32, len(rows)
assert all(r["status"] == "ok" for r in rows), [r["status"] for r in rows]
assert [r["point"] for r in rows] == list(range(32))
r = rows[8]  # dgx-a100, 4 GPUs, batch 32, $5.12 per GPU-hour
want = 5.12 * 4 * r["iteration_s"] / 32 * 1e6 / 3600
assert abs(r["cost_per_million_samples"] - want) < 1e-9 * want, (r, want)
assert rows[0]["cost_per_million_samples"] is None  # pcie-box has no price
assert abs(r["time_to_train_s"] - 1e6 / r["throughput"]) < 1e-6
# GraphPipe beats PipeDream on the 2-branch model at 8 GPUs.
assert rows[4]["throughput"] > rows[5]["throughput"], (rows[4], rows[5])
EOF
grep -q "32/32" "$TMP/a.err" || fail "no progress lines on a non-terminal"
"$GPPSIM" sweep "$TINY" --out "$TMP/b.h5" --quiet > /dev/null ||
  fail "second tiny sweep"
same_points "$TMP/a.h5" "$TMP/b.h5" || fail "rerun changed /points"

# Killed with SIGKILL part-way, then resumed.
KILL="$TMP/kill.yaml"
cat > "$KILL" <<EOF
name: kill
models: [$SRC/configs/models/mmt.yaml]
clusters: [$SRC/configs/clusters/dgx-a100.yaml]
grid: {gpus: [8, 16], batch: [64, 128, 256], planner: [graphpipe, pipedream]}
EOF
"$GPPSIM" sweep "$KILL" --out "$TMP/k-full.h5" --quiet > /dev/null ||
  fail "kill experiment, uninterrupted"
"$GPPSIM" sweep "$KILL" --out "$TMP/k.h5" > /dev/null 2> "$TMP/k.err" &
pid=$!
i=0
while [ "$(grep -c '^sweep:' "$TMP/k.err")" -lt 3 ] && [ $i -lt 600 ]; do
  sleep 0.01; i=$((i + 1))
done
kill -9 $pid 2> /dev/null && wait $pid 2> /dev/null
if [ -f "$TMP/k.h5.partial" ]; then
  [ ! -f "$TMP/k.h5" ] || fail "a killed sweep left a final file"
else
  echo "note: the sweep finished before the kill"
fi
"$GPPSIM" sweep "$KILL" --out "$TMP/k.h5" --resume --quiet > /dev/null ||
  fail "resume exited $?"
same_points "$TMP/k-full.h5" "$TMP/k.h5" || fail "resumed /points differ"
[ ! -f "$TMP/k.h5.partial" ] || fail "resume left the working file"

# Jitter: replications from a synthetic profile's p10..p90.
"$SYNTH" "$SRC/configs/models/synthetic.yaml" a100-sxm-40gb "$TMP/p.h5" ||
  fail "synth_profile"
jit() {
  cat > "$TMP/j$1.yaml" <<EOF
name: jitter
models: [$SRC/configs/models/synthetic.yaml]
clusters: [$SRC/configs/clusters/pcie-box.yaml]
grid: {gpus: [4], batch: [32]}
profile: $TMP/p.h5
jitter: $2
replications: $3
seed: $4
EOF
  "$GPPSIM" sweep "$TMP/j$1.yaml" --out "$TMP/j$1.h5" --json > "$TMP/j$1.json" \
    2> "$TMP/j$1.err" || fail "jitter sweep $1: $(tail -1 "$TMP/j$1.err")"
}
jit 0 none 1 3
jit 1 profile 8 3
jit 2 profile 8 3
jit 3 profile 8 4
"$PY" - "$TMP" <<'EOF' || fail "jitter figures"
import json, sys
r = [json.load(open(f"{sys.argv[1]}/j{i}.json"))[0] for i in range(4)]
assert r[0]["replications"] == 1 and r[1]["replications"] == 8
lo, mid, hi = r[1]["throughput_ci_lo"], r[1]["throughput"], r[1]["throughput_ci_hi"]
assert lo < mid < hi, (lo, mid, hi)
assert mid != r[0]["throughput"]
# The profile's spread is -2%..+3%: the mean stays within it.
assert 0.95 < mid / r[0]["throughput"] < 1.05, (mid, r[0]["throughput"])
assert r[1] == r[2], "same seed, same numbers"
assert r[3]["throughput"] != r[1]["throughput"], "another seed differs"
EOF

# Plots from the tiny sweep.
if "$PY" "$SRC/plots/pareto.py" "$TMP/a.h5" --out "$TMP/pareto.png" &&
   "$PY" "$SRC/plots/heatmap.py" "$TMP/a.h5" --x gpus --y batch \
     --out "$TMP/heat.png"; then
  [ -s "$TMP/pareto.png" ] && [ -s "$TMP/heat.png" ] || fail "empty plots"
else
  fail "plots exited non-zero"
fi

# A buyer's sweep: the GPT in bf16 on two clusters of one GPU type (the
# DGX A100 and a copy at another price) with a token budget: every row
# has tokens/s (samples/s x 1024 tokens), an MFU below 1, and the time and
# cost to train the budget at the cluster's price; the Pareto plot tells
# the two clusters apart (legend and point labels), heatmap shows cost.
sed -e 's/^name: .*/name: a100-cheap/' -e 's/^price_per_gpu_hour: .*/price_per_gpu_hour: 2.5/' \
  "$SRC/configs/clusters/dgx-a100.yaml" > "$TMP/a100-cheap.yaml"
cat > "$TMP/buyer.yaml" <<EOF
name: buyer
models:
  - {path: configs/models/gpt.yaml, precision: bf16}
clusters:
  - configs/clusters/dgx-a100.yaml
  - $TMP/a100-cheap.yaml
grid: {gpus: [8, 16], batch: [64]}
train_tokens: 1e10
EOF
"$GPPSIM" sweep "$TMP/buyer.yaml" --out "$TMP/buyer.h5" --json \
  > "$TMP/buyer.json" 2> "$TMP/buyer.err" ||
  fail "buyer sweep exited $?: $(tail -1 "$TMP/buyer.err")"
"$PY" - "$TMP/buyer.json" <<'EOF' || fail "buyer sweep rows"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 4 and all(r["status"] == "ok" for r in rows), rows
price = {"dgx-a100": 5.12, "a100-cheap": 2.5}
for r in rows:
    assert r["precision"] == "bf16", r
    assert abs(r["tokens_per_s"] - 1024 * r["throughput"]) <= 1e-9 * r["tokens_per_s"]
    assert 0 < r["hfu"] == r["mfu"] < 1, r
    t = 1e10 / r["tokens_per_s"]
    assert abs(r["time_to_train_tokens_s"] - t) <= 1e-9 * t, r
    c = t / 3600 * price[r["cluster"]] * r["gpus"]
    assert abs(r["cost_to_train_tokens"] - c) <= 1e-9 * c, r
EOF
"$GPPSIM" sweep "$TMP/buyer.yaml" --out "$TMP/buyer.h5" > "$TMP/buyer.txt" \
  2>/dev/null || fail "buyer sweep table"
grep -q "tokens/s *MFU% *HFU% *train_days *train_cost" "$TMP/buyer.txt" ||
  fail "buyer table header: $(head -1 "$TMP/buyer.txt")"
"$PY" - "$SRC/plots" "$TMP/buyer.h5" <<'EOF' || fail "pareto labels"
import sys
sys.path.insert(0, sys.argv[1])
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pareto
from paper_data import load
rows = pareto.ok_rows(load(sys.argv[2]), "tokens_per_s", "cost_to_train_tokens")
fig, ax = plt.subplots()
pareto.scatter(ax, rows, "tokens_per_s", "cost_to_train_tokens")
labels = ax.get_legend_handles_labels()[1]
assert sorted(labels) == ["a100-cheap (a100-sxm-80gb) / gpt / graphpipe",
                          "dgx-a100 (a100-sxm-80gb) / gpt / graphpipe"], labels
notes = sorted(t.get_text() for t in ax.texts)
assert notes == ["a100-cheap gpt 16", "a100-cheap gpt 8", "dgx-a100 gpt 16",
                 "dgx-a100 gpt 8"], notes
EOF
"$PY" "$SRC/plots/pareto.py" "$TMP/buyer.h5" --metric tokens \
  --out "$TMP/bp.png" && [ -s "$TMP/bp.png" ] || fail "pareto --metric tokens"
"$PY" "$SRC/plots/heatmap.py" "$TMP/buyer.h5" --x gpus --y cluster \
  --value train_cost --out "$TMP/bh.png" && [ -s "$TMP/bh.png" ] ||
  fail "heatmap --value train_cost"
# A 7B GPT in bf16 (decoder: 32 x 4096, seq 2048, flash attention) at
# batch 512 on 64 DGX H100 and 128 DGX A100 GPUs: MFU within the 35-60%
# that published runs of that size report (README's figures).
cat > "$TMP/gpt7b.yaml" <<'EOF'
name: gpt7b
precision: bf16
attention: flash
graph:
  - {decoder: m, layers: 32, d_model: 4096, heads: 32, vocab: 50304, seq: 2048}
EOF
cat > "$TMP/mfu.yaml" <<EOF
name: mfu7b
models: [$TMP/gpt7b.yaml]
clusters: [configs/clusters/dgx-h100.yaml, configs/clusters/dgx-a100.yaml]
points: [{gpus: [64, 128], batch: 512}]
EOF
"$GPPSIM" sweep "$TMP/mfu.yaml" --out "$TMP/mfu.h5" --json > "$TMP/mfu.json" \
  2> "$TMP/mfu.err" || fail "7B sweep exited $?: $(tail -1 "$TMP/mfu.err")"
"$PY" - "$TMP/mfu.json" <<'EOF' || fail "7B GPT MFU outside 35-60%"
import json, sys
rows = {(r["gpu"], r["gpus"]): r for r in json.load(open(sys.argv[1]))}
for k in (("h100-sxm-80gb", 64), ("a100-sxm-80gb", 128)):
    r = rows[k]
    print("7B bf16 GPT on %d %s: MFU %.1f%%" % (k[1], k[0], 100 * r["mfu"]))
    assert r["status"] == "ok" and 0.35 <= r["mfu"] <= 0.60, r
EOF

# The plots' bad input: exit 2, one line, no traceback.
for args in "pareto" "heatmap --x gpus --y gpu"; do
  set -- $args
  script=$1; shift
  "$PY" "$SRC/plots/$script.py" "$TMP/buyer.yaml" "$@" --out "$TMP/x.png" \
    > /dev/null 2> "$TMP/plot.err"
  rc=$?
  [ $rc -eq 2 ] || fail "$script.py on a YAML file: exit $rc, expected 2"
  grep -q "^$script.py: .*buyer.yaml: not a gppsim sweep results file" \
    "$TMP/plot.err" && ! grep -q Traceback "$TMP/plot.err" ||
    fail "$script.py bad input message: $(cat "$TMP/plot.err")"
done
"$PY" "$SRC/plots/pareto.py" "$TMP/a.h5" --metric tokens --out "$TMP/x.png" \
  2> "$TMP/plot.err"
[ $? -eq 2 ] && grep -q "train_tokens" "$TMP/plot.err" ||
  fail "pareto --metric tokens without a budget: $(cat "$TMP/plot.err")"

# Bad input: exit 2 with the position.
printf 'name: t\nmodels: [configs/models/synthetic.yaml]\nclusters: [configs/clusters/pcie-box.yaml]\ngrid: {batch: [8], gpu: [2]}\n' \
  > "$TMP/bad.yaml"
"$GPPSIM" sweep "$TMP/bad.yaml" --out "$TMP/bad.h5" 2> "$TMP/bad.err"
[ $? -eq 2 ] || fail "bad experiment must exit 2"
grep -q "bad.yaml:4:20: unknown key 'gpu'; did you mean 'gpus'" "$TMP/bad.err" ||
  fail "bad experiment message: $(cat "$TMP/bad.err")"
printf 'name: t\nmodels:\n  - {path: configs/models/gpt.yaml, precision: int4}\nclusters: [configs/clusters/pcie-box.yaml]\ngrid: {batch: [8]}\n' \
  > "$TMP/bad.yaml"
"$GPPSIM" sweep "$TMP/bad.yaml" --out "$TMP/bad.h5" 2> "$TMP/bad.err"
[ $? -eq 2 ] || fail "bad model precision must exit 2"
grep -q "bad.yaml:3:48: precision: unknown value 'int4'; valid: full, mixed, fp32" \
  "$TMP/bad.err" || fail "bad model precision message: $(cat "$TMP/bad.err")"
printf 'name: t\nmodels: [configs/models/synthetic.yaml]\nclusters: [configs/clusters/pcie-box.yaml]\ngrid: {batch: [8], max_stage_devices: [1, -1]}\n' \
  > "$TMP/bad.yaml"
"$GPPSIM" sweep "$TMP/bad.yaml" --out "$TMP/bad.h5" 2> "$TMP/bad.err"
[ $? -eq 2 ] || fail "negative max_stage_devices must exit 2"
grep -q "bad.yaml:4:43: max_stage_devices: -1 is out of range" "$TMP/bad.err" ||
  fail "bad max_stage_devices message: $(cat "$TMP/bad.err")"
[ ! -e "$TMP/bad.h5" ] || fail "a rejected experiment left a results file"

# Models and clusters by bundled name; a misspelt one is located.
printf 'name: t\nmodels: [synthetic]\nclusters: [pcie-box]\ngrid: {batch: [8], gpus: [2]}\n' \
  > "$TMP/names.yaml"
"$GPPSIM" sweep "$TMP/names.yaml" --out "$TMP/names.h5" --quiet \
  > "$TMP/names.out" 2> "$TMP/names.err" || fail "sweep by names: $(cat "$TMP/names.err")"
grep -q ' synthetic  *pcie-box .* ok ' "$TMP/names.out" ||
  fail "sweep by names: $(cat "$TMP/names.out")"
sed 's/pcie-box/pcie-bx/' "$TMP/names.yaml" > "$TMP/bad.yaml"
"$GPPSIM" sweep "$TMP/bad.yaml" --out "$TMP/bad.h5" 2> "$TMP/bad.err"
[ $? -eq 2 ] || fail "a misspelt cluster name must exit 2"
grep -q "bad.yaml:3:12: 'pcie-bx' is neither a file nor a bundled name; did you mean 'pcie-box'?" \
  "$TMP/bad.err" || fail "misspelt cluster name: $(cat "$TMP/bad.err")"

finish cli_sweep
