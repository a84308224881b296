#!/bin/sh
# cli_import.sh -- `gppsim model import` / `import-torch` on models built in
# tests/import_models.py (an MLP, two MLP branches with a concat, torch's
# TransformerEncoderLayer, a DLRM-like model with embedding bags, and two
# encoders plus an MLP joined by a concat): parameters equal PyTorch's,
# GEMM FLOPs the hand count, each plans and simulates, GraphPipe puts the
# branches in parallel stages; the exported ONNX imports under its node
# names; --batch-dim; malformed ONNX (truncated, not ONNX, a cycle) exits
# 2 naming the file and the node, writing nothing.  Skipped (exit 77) where
# /usr/bin/python3 lacks torch or onnx.
# Usage: cli_import.sh GPPSIM SOURCE_DIR
set -u
GPPSIM=$1
SRC=$2
PY=/usr/bin/python3
MODELS="$SRC/tests/import_models.py"
CL="$SRC/configs/clusters/summit.yaml"
. "$(dirname "$0")/lib.sh"
need_python_modules torch onnx

# imp NAME [--onnx FILE]: imports (the weights in the ONNX file with
# --onnx, else left out of it), checks parameters and FLOPs, plans on 4
# GPUs, simulates.
imp() {
  m=$1
  shift
  # shellcheck disable=SC2046
  "$GPPSIM" model import-torch "$MODELS:$m" $("$PY" "$MODELS" inputs "$m") \
    "$@" --out "$TMP/$m.yaml" > /dev/null 2> "$TMP/$m.err" ||
    { fail "$m: import-torch exited $?: $(cat "$TMP/$m.err")"; return; }
  params=$(sed -n 's/.*PyTorch counts \([0-9]*\) parameters/\1/p' "$TMP/$m.err")
  "$GPPSIM" model show "$TMP/$m.yaml" --json --ops > "$TMP/$m.json" &&
    "$PY" "$MODELS" check "$m" "$TMP/$m.json" "${params:-0}" ||
    fail "$m: model check"
  "$GPPSIM" plan --model "$TMP/$m.yaml" --cluster "$CL" --batch 32 --gpus 4 \
    --out "$TMP/$m-plan.yaml" --json > "$TMP/$m-plan.json" 2> "$TMP/$m.perr" ||
    { fail "$m: plan exited $?: $(cat "$TMP/$m.perr")"; return; }
  "$GPPSIM" simulate --plan "$TMP/$m-plan.yaml" --cluster "$CL" --json \
    > "$TMP/$m-sim.json" 2> "$TMP/$m.serr" ||
    fail "$m: simulate exited $?: $(cat "$TMP/$m.serr")"
}

for m in mlp two_branch multimodal; do imp $m; done
imp encoder_layer --onnx "$TMP/encoder_layer.onnx"
imp dlrm --onnx "$TMP/dlrm.onnx"

# Branches survive: GraphPipe's stage graph is shallower than its stage count.
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
sys.exit(0 if d["depth"] < d["stages"] else 1)' "$TMP/multimodal-plan.json" ||
  fail "multimodal: GraphPipe found no parallel stages"
# Attention and GELU subgraphs become one op each; names stay torch's.
grep -q '{op: "self_attn", kind: "attention".*heads: 4' "$TMP/encoder_layer.yaml" ||
  fail "encoder_layer: no 4-head attention op named self_attn"
grep -q 'op: "linear1.MatMul", kind: "matmul"' "$TMP/encoder_layer.yaml" ||
  fail "encoder_layer: linear1 lost its name"
grep -q 'kind: "embedding".*rows: 1000, bag: 10' "$TMP/dlrm.yaml" ||
  fail "dlrm: embedding bags not recognised"

# The ONNX file itself imports the same model.
"$GPPSIM" model import "$TMP/dlrm.onnx" --out "$TMP/dlrm2.yaml" > /dev/null 2>&1 &&
  "$GPPSIM" model show "$TMP/dlrm2.yaml" --json --ops > "$TMP/dlrm2.json" &&
  "$PY" "$MODELS" check dlrm "$TMP/dlrm2.json" "$params" > /dev/null ||
  fail "model import of the exported dlrm.onnx"

# A symbolic batch dimension; a wrong --batch-dim is bad input.
"$PY" - "$TMP" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as T
d = sys.argv[1]
w = nh.from_array(np.ones((8, 4), np.float32), "fc.weight")
x = h.make_tensor_value_info("x", T.FLOAT, ["N", 3, 8])
y = h.make_tensor_value_info("y", T.FLOAT, ["N", 3, 4])
g = h.make_graph([h.make_node("MatMul", ["x", "fc.weight"], ["t"], "fc"),
                  h.make_node("Relu", ["t"], ["y"], "act")], "g", [x], [y], [w])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), d + "/sym.onnx")
g.node[1].input[0] = "y"  # act reads its own output: a cycle
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), d + "/cycle.onnx")
EOF
"$GPPSIM" model import "$TMP/sym.onnx" --batch-dim N --out "$TMP/sym.yaml" > /dev/null 2>&1 &&
  grep -q 'input: "x", tokens: 3, width: 8' "$TMP/sym.yaml" &&
  grep -q 'op: "fc", kind: "matmul".*width: 4}, bias: false' "$TMP/sym.yaml" ||
  fail "symbolic batch dimension N"
"$GPPSIM" model import "$TMP/sym.onnx" --batch-dim B --out "$TMP/symB.yaml" 2> "$TMP/symB.err"
[ $? -eq 2 ] && grep -q "'B'" "$TMP/symB.err" && [ ! -e "$TMP/symB.yaml" ] ||
  fail "a wrong --batch-dim is not exit 2"

# Concat follows the ONNX axis: two (2, 4, 8) inputs joined on axis 1
# (tokens) are 8 x 8 per sample, on axis -1 (width) 4 x 16, where their
# shapes alone could not tell; a batch-axis join flattens.
for ax in 1 -1 0; do
  "$PY" - "$TMP/cat$ax.onnx" "$ax" <<'PYEOF' || fail "building cat$ax.onnx"
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as T
ax = int(sys.argv[2])
w = nh.from_array(np.ones((8, 4), np.float32), "w")
out = {1: [2, 8, 8], -1: [2, 4, 16], 0: [4, 4, 8]}[ax]
nodes = [h.make_node("Concat", ["x0", "x1"], ["c"], "cat", axis=ax)]
if ax != -1:
    nodes.append(h.make_node("MatMul", ["c", "w"], ["y"], "fc"))
    y = out[:-1] + [4]
else:
    nodes.append(h.make_node("Relu", ["c"], ["y"], "act"))
    y = out
g = h.make_graph(nodes, "g",
                 [h.make_tensor_value_info(x, T.FLOAT, [2, 4, 8]) for x in ("x0", "x1")],
                 [h.make_tensor_value_info("y", T.FLOAT, y)], [w])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), sys.argv[1])
PYEOF
  "$GPPSIM" model import "$TMP/cat$ax.onnx" --out "$TMP/cat$ax.yaml" \
    > /dev/null 2> "$TMP/cat.err" || { fail "cat$ax: import exited $?: $(cat "$TMP/cat.err")"; continue; }
  "$GPPSIM" model show "$TMP/cat$ax.yaml" --json --ops > "$TMP/cat$ax.json" ||
    fail "cat$ax: model show"
done
"$PY" - "$TMP" <<'PYEOF' || fail "concat axis"
import json, re, sys
want = {"1": ("tokens", 8, 8), "-1": ("width", 4, 16), "0": ("flatten", 1, 64)}
for ax, (along, t, w) in want.items():
    text = open("%s/cat%s.yaml" % (sys.argv[1], ax)).read()
    assert bool(re.search('along: "?' + along, text)) == (along != "width"), (ax, text)
    ops = {o["name"]: o for o in json.load(open("%s/cat%s.json" % (sys.argv[1], ax)))["op_table"]}
    cat = ops["cat"]
    assert (cat["tokens"], cat["width"]) == (t, w), (ax, cat)
PYEOF

# bad FILE WHAT: exit 2, the file named and WHAT in the message, no output.
bad() {
  "$GPPSIM" model import "$1" --out "$TMP/bad.yaml" 2> "$TMP/bad.err"
  rc=$?
  [ $rc -eq 2 ] || fail "$1: exit $rc, expected 2"
  grep -q "$1" "$TMP/bad.err" && grep -q "$2" "$TMP/bad.err" ||
    fail "$1: message lacks '$2': $(cat "$TMP/bad.err")"
  [ ! -e "$TMP/bad.yaml" ] || fail "$1: wrote an output"
}
head -c 2000 "$TMP/dlrm.onnx" > "$TMP/truncated.onnx"
bad "$TMP/truncated.onnx" "not an ONNX model"
bad "$CL" "not an ONNX model"
bad "$TMP/cycle.onnx" "node 'act' (Relu): the graph has a cycle"
bad "$TMP/missing.onnx" "cannot read"

# The command line.
"$GPPSIM" model import --help | grep -q "batch-dim" || fail "import --help"
"$GPPSIM" model import-torch --help | grep -q "input-shape" || fail "import-torch --help"
"$GPPSIM" model import "$TMP/sym.onnx" > /dev/null 2>&1
[ $? -eq 2 ] || fail "import without --out is not exit 2"
"$GPPSIM" model import-torch "$MODELS:mlp" --out "$TMP/x.yaml" > /dev/null 2>&1
[ $? -eq 2 ] || fail "import-torch without --input-shape is not exit 2"
"$GPPSIM" model import-torch "$MODELS:nosuch" --input-shape 1x4 --out "$TMP/x.yaml" 2> "$TMP/x.err"
[ $? -eq 2 ] && grep -q "no function 'nosuch'" "$TMP/x.err" || fail "unknown factory"
"$GPPSIM" model import-torch "$MODELS:mlp" --input-shape 1xq --out "$TMP/x.yaml" 2> /dev/null
[ $? -eq 2 ] || fail "a bad --input-shape is not exit 2"

finish cli_import
