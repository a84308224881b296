#!/bin/sh
# cli_import_mmt.sh -- configs/models/mmt.yaml rebuilt in PyTorch
# (tests/import_models.py:mmt) and imported with `gppsim model
# import-torch` has mmt.yaml's parameter count and the hand count of GEMM
# FLOPs, and GraphPipe's plan for it on 8 Summit GPUs simulates within 2%
# of the throughput of the plan for mmt.yaml.  Slow (the export traces 32
# Transformer layers); skipped (exit 77) without torch and onnx.
# Usage: cli_import_mmt.sh GPPSIM SOURCE_DIR
set -u
GPPSIM=$1
SRC=$2
PY=/usr/bin/python3
MODELS="$SRC/tests/import_models.py"
CL="$SRC/configs/clusters/summit.yaml"
. "$(dirname "$0")/lib.sh"
need_python_modules torch onnx

# shellcheck disable=SC2046
"$GPPSIM" model import-torch "$MODELS:mmt" $("$PY" "$MODELS" inputs mmt) \
  --out "$TMP/mmt.yaml" > /dev/null 2> "$TMP/mmt.err" ||
  { fail "import-torch exited $?: $(cat "$TMP/mmt.err")"; finish cli_import_mmt; }
"$GPPSIM" model show "$TMP/mmt.yaml" --json --ops > "$TMP/imp.json"
"$GPPSIM" model show "$SRC/configs/models/mmt.yaml" --json > "$TMP/ref.json"
params=$("$PY" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["param_count"]))' "$TMP/ref.json")
"$PY" "$MODELS" check mmt "$TMP/imp.json" "$params" ||
  fail "parameters or FLOPs differ from mmt.yaml's"

# plan NAME MODEL: GraphPipe on 8 GPUs, simulated; prints samples/s.
plan() {
  "$GPPSIM" plan --model "$2" --cluster "$CL" --batch 128 --gpus 8 \
    --out "$TMP/$1-plan.yaml" > /dev/null 2>&1 &&
    "$GPPSIM" simulate --plan "$TMP/$1-plan.yaml" --cluster "$CL" --json \
      > "$TMP/$1-sim.json" 2> /dev/null ||
    { fail "$1: plan or simulate failed"; return; }
}
plan ref "$SRC/configs/models/mmt.yaml"
plan imp "$TMP/mmt.yaml"
"$PY" - "$TMP/ref-sim.json" "$TMP/imp-sim.json" <<'EOF' || fail "throughput differs by more than 2%"
import json, sys
ref, imp = (json.load(open(p))["samples_per_s"] for p in sys.argv[1:3])
print("mmt.yaml %.2f samples/s, imported %.2f samples/s (%+.2f%%)"
      % (ref, imp, 100 * (imp / ref - 1)))
sys.exit(0 if abs(imp / ref - 1) <= 0.02 else 1)
EOF

finish cli_import_mmt
