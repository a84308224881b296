#!/bin/sh
# cli_bundle.sh -- a relocated gppsim: the binary copied into an empty
# folder and run with a bare environment (`env -i`, no HOME) from another
# empty folder, with GPP_SOURCE_DIR naming a folder without the source
# tree, so that only the configs and plot scripts built into it remain.
# `demo` runs, draws its plots and gives bit-identical results to a run
# that reads the source tree; `model show`, `simulate` of a bundled plan
# (with `gpu:` looked up by name) and `sweep` of a bundled experiment print
# what they print with the tree; errors still name file:line:column (the
# embedded files by their repo-relative path) and exit 2; the temporary
# folder of plot scripts is removed; `model import` runs the built-in
# importer (where onnx is installed) and removes it too.
# Usage: cli_bundle.sh GPPSIM SOURCE_DIR
set -u
SRC=$(cd "$2" && pwd)
PY=/usr/bin/python3
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/bin" "$TMP/run" "$TMP/notree" "$TMP/tree" "$TMP/tmp"
cp "$1" "$TMP/bin/gppsim"

# away ARGS...: the copied binary, from $TMP/run, source tree hidden.
away() {
  (cd "$TMP/run" && env -i PATH=/usr/bin:/bin HOME="$TMP/nohome" \
     TMPDIR="$TMP/tmp" GPP_SOURCE_DIR="$TMP/notree" "$TMP/bin/gppsim" "$@")
}

# tree ARGS...: the same from $TMP/tree, reading the source tree.
tree() {
  (cd "$TMP/tree" && env -i PATH=/usr/bin:/bin HOME="$TMP/nohome" \
     TMPDIR="$TMP/tmp" GPP_SOURCE_DIR="$SRC" "$TMP/bin/gppsim" "$@")
}

# both NAME ARGS...: runs ARGS both ways; exit 0 and the same stdout but
# for the source tree's folder in the names of the files read from it.
both() {
  name=$1; shift
  away "$@" > "$TMP/$name.away" 2> "$TMP/$name.err"
  rc=$?
  [ $rc -eq 0 ] || fail "$name away from the tree: exit $rc: $(cat "$TMP/$name.err")"
  tree "$@" > "$TMP/$name.raw" 2> "$TMP/$name.err"
  rc=$?
  [ $rc -eq 0 ] || fail "$name in the tree: exit $rc: $(cat "$TMP/$name.err")"
  sed "s|$SRC/||g" "$TMP/$name.raw" > "$TMP/$name.tree"
  [ -s "$TMP/$name.away" ] || fail "$name: no output"
  cmp -s "$TMP/$name.away" "$TMP/$name.tree" ||
    fail "$name: output differs: $(diff "$TMP/$name.away" "$TMP/$name.tree" | head -5)"
}

# The demo, with no arguments but --out, from the empty folder.
away demo --out out > "$TMP/demo.out" 2> "$TMP/demo.err"
rc=$?
[ $rc -eq 0 ] || fail "demo exited $rc: $(tail -3 "$TMP/demo.err")"
grep -q '^demo: model configs/models/mmt.yaml, cluster configs/clusters/summit.yaml$' \
  "$TMP/demo.err" || fail "demo did not use the embedded files: $(head -1 "$TMP/demo.err")"
grep -Eq '^graphpipe +[0-9]+/[0-9]+ +[0-9]+ +[0-9.]+ ' "$TMP/demo.out" ||
  fail "no graphpipe row: $(cat "$TMP/demo.out")"
grep -q '^model: "configs/models/mmt.yaml"$' "$TMP/run/out/graphpipe-plan.yaml" ||
  fail "the plan does not name the model by its repo-relative path"
if "$PY" -c 'import matplotlib, h5py' 2> /dev/null; then
  for f in timeline.png memory.png; do
    [ "$(head -c 4 "$TMP/run/out/$f" | od -An -c | tr -d ' ')" = "211PNG" ] ||
      fail "$f not drawn by the built-in plot scripts"
  done
else
  echo "note: $PY lacks matplotlib or h5py; plots not checked"
fi
[ -z "$(ls -A "$TMP/tmp")" ] || fail "temporary files left: $(ls "$TMP/tmp")"
tree demo --out out > "$TMP/demo.tree" 2> "$TMP/demo.err"
rc=$?
[ $rc -eq 0 ] || fail "demo in the tree exited $rc"
grep -q "^demo: model $SRC/configs/models/mmt.yaml," "$TMP/demo.err" ||
  fail "demo in the tree did not read it: $(head -1 "$TMP/demo.err")"
for f in graphpipe-trace.json pipedream-trace.json; do
  cmp -s "$TMP/run/out/$f" "$TMP/tree/out/$f" ||
    fail "$f differs between the embedded and the tree's configs"
done
# The results files differ only in the plan's model path.
"$PY" - "$TMP/run/out" "$TMP/tree/out" "$SRC/" <<'PYEOF' ||
import sys, h5py, numpy as np
away, tree, src = sys.argv[1:]
def items(g, path=""):
    for k, v in g.attrs.items():
        yield path + "@" + k, v
    if isinstance(g, h5py.Group):
        for k in g:
            yield from items(g[k], path + "/" + k)
    else:
        yield path, g[()]
for p in ("graphpipe", "pipedream"):
    a = dict(items(h5py.File("%s/%s.h5" % (away, p), "r")))
    b = dict(items(h5py.File("%s/%s.h5" % (tree, p), "r")))
    assert sorted(a) == sorted(b) and len(a) > 10, p
    plan = b["/inputs/plan"].replace(src.encode(), b"")
    assert a["/inputs/plan"] == plan != b["/inputs/plan"], p
    for k in a:
        if k != "/inputs/plan":
            assert np.array_equal(a[k], b[k]), (p, k)
PYEOF
  fail "results differ between the embedded and the tree's configs"

# Other commands read the embedded files through the same lookup.
both show model show configs/models/mmt.yaml
grep -q '^model  *mmt (configs/models/mmt.yaml)$' "$TMP/show.away" ||
  fail "model show: $(head -1 "$TMP/show.away")"
both sim simulate --plan configs/experiments/plans/mmt-gpp-8.yaml \
  --cluster configs/clusters/dgx-a100.yaml
grep -Eq '^samples/s +[0-9.]+$' "$TMP/sim.away" || fail "simulate: no throughput"
both sweep sweep configs/experiments/sweeps/tiny.yaml --out tiny.h5 --quiet
# ... and every command takes bundled names.
both showname model show mmt
cmp -s "$TMP/showname.away" "$TMP/show.away" || fail "model show mmt differs"
both simname simulate --plan mmt-gpp-8 --cluster dgx-a100
cmp -s "$TMP/simname.away" "$TMP/sim.away" || fail "simulate by names differs"
# (plan's search time differs from run to run: compare the plan itself)
away plan --model mmt --cluster summit --batch 64 --gpus 8 --out pa.yaml \
  > /dev/null 2>&1 || fail "plan by names away from the tree: exit $?"
tree plan --model mmt --cluster summit --batch 64 --gpus 8 --out pt.yaml \
  > /dev/null 2>&1 || fail "plan by names in the tree: exit $?"
sed "s|$SRC/||g" "$TMP/tree/pt.yaml" | grep -v '^# planner' > "$TMP/pt.yaml"
grep -v '^# planner' "$TMP/run/pa.yaml" | cmp -s - "$TMP/pt.yaml" ||
  fail "plan by names differs away from the tree"
grep -q '^model: "configs/models/mmt.yaml"$' "$TMP/run/pa.yaml" ||
  fail "plan by names: $(grep '^model' "$TMP/run/pa.yaml")"
both costs costs --model gpt --gpu h100-sxm-80gb --micro-batch 1
[ "$(grep -c ' ok ' "$TMP/sweep.away")" -eq 32 ] || fail "sweep: not 32 points"

# Errors: file:line:column, exit 2; the GPU catalog is the built-in one.
bad() {
  want=$1; shift
  away "$@" > /dev/null 2> "$TMP/bad.err"
  rc=$?
  [ $rc -eq 2 ] || fail "$*: exit $rc, expected 2"
  grep -q -- "$want" "$TMP/bad.err" || fail "$*: no '$want' in: $(cat "$TMP/bad.err")"
}
printf 'name: c\ngpu: v100-sxm2-16gbx\nnodes: 1\ngpus_per_node: 2\nintra_node: {kind: nvswitch, bandwidth: 300 GB/s, latency: 2 us}\n' \
  > "$TMP/run/c.yaml"
bad "c.yaml:2:6: unknown GPU 'v100-sxm2-16gbx'; did you mean 'v100-sxm2-16gb'? (catalog: a100-sxm-40gb, a100-sxm-80gb, h100-sxm-80gb, h200, v100-sxm2-16gb, v100-sxm2-32gb)" \
  simulate --plan configs/experiments/plans/mmt-gpp-8.yaml --cluster c.yaml
bad "configs/models/nosuch.yaml:1:1: cannot open" model show configs/models/nosuch.yaml
bad "bundled models: candle_uno, dlrm, gpt, mmt, synthetic" demo --model nosuch
bad "did you mean 'summit'? (bundled clusters: " plan --model mmt --cluster sumit --batch 8
bad "did you mean 'h100-sxm-80gb'? (bundled hardware: " costs --model mmt --gpu h100
printf 'model: configs/models/mmt.yaml\nbatch: 8\nmicro_batch: 1\nschedule: gpp\nstages:\n  - {name: s0, ops: ["nosuch.*"], devices: [0]}\n' \
  > "$TMP/run/p.yaml"
bad "p.yaml:6:" simulate --plan p.yaml --cluster configs/clusters/summit.yaml

# The model importer runs from its built-in copy and cleans up after it.
if "$PY" -c 'import onnx' 2> /dev/null; then
  "$PY" - "$TMP/run/m.onnx" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as T
w = nh.from_array(np.ones((8, 4), np.float32), "fc.weight")
g = h.make_graph([h.make_node("MatMul", ["x", "fc.weight"], ["y"], "fc")], "g",
                 [h.make_tensor_value_info("x", T.FLOAT, [2, 8])],
                 [h.make_tensor_value_info("y", T.FLOAT, [2, 4])], [w])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), sys.argv[1])
EOF
  away model import m.onnx --out m.yaml > "$TMP/imp.out" 2>&1 ||
    fail "model import away from the tree: $(cat "$TMP/imp.out")"
  grep -q 'op: "fc", kind: "matmul"' "$TMP/run/m.yaml" || fail "model import wrote no fc"
  [ -z "$(ls -A "$TMP/tmp")" ] || fail "importer files left: $(ls "$TMP/tmp")"
else
  echo "note: $PY lacks onnx; the built-in importer not checked"
fi

finish cli_bundle
