#!/bin/sh
# cli_limits.sh -- inputs that would need more than memory allows are
# refused where the value is read: exit 2 within GPP_LIMIT_SECONDS of CPU (1 s;
# the sanitizer build allows more), the limit named, at file:line:column,
# before anything is allocated for them.  Cases: a generator count of 10^9
# (transformer layers, branch count), a model that expands to more ops than
# the op limit (4,096 branches of 100,000 layers, and of 20 layers), a
# cluster of 10^8 GPUs (two ways), batch 10^15 in a plan and in a sweep.
# Usage: cli_limits.sh GPPSIM SOURCE_DIR
set -u
GPPSIM=$1
SRC=$2
LIMIT=${GPP_LIMIT_SECONDS:-1}
export GPP_SOURCE_DIR="$SRC"
PLAN="$SRC/configs/experiments/plans/synthetic-gpp-8.yaml"
CLUSTER="$SRC/configs/clusters/pcie-box.yaml"
. "$(dirname "$0")/lib.sh"

# cpu_run CMD...: runs CMD (stdout dropped, stderr to $TMP/err, killed
# after 20 s) and prints its exit status and the CPU milliseconds (user +
# system) it used: CPU time, not wall time, so that a loaded machine does
# not fail the check.
cpu_run() {
  /usr/bin/python3 - "$TMP/err" "$@" <<'PYEOF'
import resource, subprocess, sys
with open(sys.argv[1], "w") as err:
    try:
        rc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL,
                            stderr=err, timeout=20).returncode
    except subprocess.TimeoutExpired:
        rc = 124
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(rc, int((u.ru_utime + u.ru_stime) * 1000))
PYEOF
}

# refused WHAT WANT_MESSAGE CMD...: CMD exits 2 within LIMIT seconds of CPU
# time and its stderr holds WANT_MESSAGE (a file:line:column and the limit).
refused() {
  what=$1 want=$2
  shift 2
  set -- $(cpu_run "$@")
  rc=$1 ms=$2
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, want 2: $(tail -2 "$TMP/err")"
  grep -qF "$want" "$TMP/err" ||
    fail "$what: want '$want', got: $(cat "$TMP/err")"
  [ "$ms" -le $((LIMIT * 1000)) ] ||
    fail "$what: took $ms ms of CPU, more than $LIMIT s"
  echo "$what: exit $rc in $ms ms of CPU"
}

# A transformer stack in a model; $1 is its `layers`, $2 a branch count
# (0: no branches).
model() {
  if [ "$2" -eq 0 ]; then
    printf 'name: big\ngraph:\n  - {input: tokens, tokens: 128, width: 64}\n'
    printf '  - transformer: h\n    layers: %s\n    seq: 128\n' "$1"
    printf '    hidden: 64\n    heads: 4\n    ffn: 256\n  - {loss: loss}\n'
  else
    printf 'name: big\ngraph:\n  - {input: tokens, tokens: 128, width: 64}\n'
    printf '  - branches: b\n    count: %s\n    body:\n' "$2"
    printf '      - transformer: h\n        layers: %s\n' "$1"
    printf '        seq: 128\n        hidden: 64\n        heads: 4\n'
    printf '        ffn: 256\n  - {loss: loss}\n'
  fi
}

# ---- generator counts of 10^9 --------------------------------------------
model 1000000000 0 > "$TMP/layers.yaml"
refused "transformer layers 10^9" \
  "layers.yaml:5:13: layers: 1000000000 is out of range; expected 1 to 100 k" \
  "$GPPSIM" model show "$TMP/layers.yaml"
model 2 1000000000 > "$TMP/count.yaml"
refused "branch count 10^9" \
  "count.yaml:5:12: count: 1000000000 is out of range; expected 1 to 4.1 k" \
  "$GPPSIM" model show "$TMP/count.yaml"

# ---- more ops than the op limit: refused after the first unit ------------
model 100000 4096 > "$TMP/deep.yaml"
refused "4096 branches of 100000 layers" \
  "deep.yaml:7:9: the model expands to more than 262144 ops" \
  "$GPPSIM" model show "$TMP/deep.yaml"
model 20 4096 > "$TMP/wide.yaml"
refused "4096 branches of 20 layers" \
  "wide.yaml:4:5: the model expands to more than 262144 ops" \
  "$GPPSIM" model show "$TMP/wide.yaml"

# ---- a cluster of 10^8 GPUs ------------------------------------------------
sed 's/^nodes:.*/nodes: 100000/; s/^gpus_per_node:.*/gpus_per_node: 1000/' \
  "$SRC/configs/clusters/dgx-a100.yaml" > "$TMP/c1e8.yaml"
line=$(grep -n '^nodes:' "$TMP/c1e8.yaml" | cut -d: -f1)
refused "cluster of 10^8 GPUs" \
  "c1e8.yaml:$line:8: nodes: 100000 is out of range; expected 1 to 65.5 k" \
  "$GPPSIM" simulate --plan "$PLAN" --cluster "$TMP/c1e8.yaml"
sed 's/^nodes:.*/nodes: 65536/; s/^gpus_per_node:.*/gpus_per_node: 1024/' \
  "$SRC/configs/clusters/dgx-a100.yaml" > "$TMP/c67m.yaml"
refused "cluster of 65536 x 1024 GPUs" \
  "c67m.yaml:$line:8: 65536 nodes x 1024 GPUs is more than 65536 GPUs" \
  "$GPPSIM" simulate --plan "$PLAN" --cluster "$TMP/c67m.yaml"

# ---- batch 10^15 -----------------------------------------------------------
sed 's/^batch:.*/batch: 1000000000000000/' "$PLAN" > "$TMP/batch.yaml"
line=$(grep -n '^batch:' "$TMP/batch.yaml" | cut -d: -f1)
refused "plan batch 10^15" \
  "batch.yaml:$line:8: batch: 1000000000000000 is out of range; expected 1 to 1.07 G" \
  "$GPPSIM" simulate --plan "$TMP/batch.yaml" --cluster "$CLUSTER"
sed 's/^  batch:.*/  batch: [1000000000000000]/' \
  "$SRC/configs/experiments/sweeps/tiny.yaml" > "$TMP/sweep.yaml"
line=$(grep -n '^  batch:' "$TMP/sweep.yaml" | cut -d: -f1)
refused "sweep batch 10^15" \
  "sweep.yaml:$line:11: batch: 1000000000000000 is out of range; expected 1 to 1.05 M" \
  "$GPPSIM" sweep "$TMP/sweep.yaml" --out "$TMP/sweep.h5"
[ -e "$TMP/sweep.h5" ] && fail "sweep batch 10^15: a results file was written"

finish cli_limits
