#!/bin/sh
# cli_demo.sh -- whole-program checks of `gppsim demo`, run from folders
# that hold no configs and without GPP_SOURCE_DIR (the compiled-in source
# tree is found): exit 0; the table has GraphPipe, PipeDream and Piper rows
# with numbers (Piper plans MMT on its layer graph); every file
# is written and the PNGs are real PNGs; --json agrees with the table;
# GraphPipe's stage graph is shallower and faster than PipeDream's, at
# the throughputs the README states; two
# runs give bit-identical results, traces and plots (plans differ only in
# their search-time header); with no Python the table still comes out;
# with no plan at all it exits 3; bad arguments exit 2.
# Usage: cli_demo.sh GPPSIM
set -u
GPPSIM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PY=/usr/bin/python3
unset GPP_SOURCE_DIR GPP_PYTHON
. "$(dirname "$0")/lib.sh"

# demo DIR ARGS...: runs `gppsim demo --out out ARGS` in $TMP/DIR.
demo() {
  d="$TMP/$1"; shift
  mkdir -p "$d"
  (cd "$d" && "$GPPSIM" demo --out out "$@" > stdout 2> stderr)
}

demo a
rc=$?
[ $rc -eq 0 ] || fail "demo exited $rc: $(cat "$TMP/a/stderr")"
T="$TMP/a/stdout"
grep -q '^planner .*throughput.*iteration.*bubble.*peak mem.*search.*speed-up' "$T" ||
  fail "no table header"
grep -q '(samples/s).*(ms).*(GiB).*(s)' "$T" || fail "no units in the header"
grep -Eq '^graphpipe +[0-9]+/[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +0\.[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+x$' "$T" ||
  fail "no graphpipe row: $(grep graphpipe "$T")"
grep -Eq '^pipedream +([0-9]+)/\1 +[0-9]+ .* 1\.000x$' "$T" ||
  fail "no pipedream row: $(grep pipedream "$T")"
grep -Eq '^piper +[0-9]+/[0-9]+ +[0-9]+ ' "$T" ||
  fail "no piper row: $(grep piper "$T")"
grep -q 'demo: graphpipe: planning mmt on 16 GPUs, batch 128' "$TMP/a/stderr" ||
  fail "no progress on stderr"
for f in graphpipe-plan.yaml graphpipe.h5 graphpipe-trace.json \
         pipedream-plan.yaml pipedream.h5 pipedream-trace.json \
         timeline.png memory.png; do
  [ -s "$TMP/a/out/$f" ] || fail "$f missing or empty"
done
[ -s "$TMP/a/out/piper.h5" ] || fail "no piper results"
"$PY" - "$TMP/a/out" <<'PYEOF' || fail "output files are not what they claim"
import json, sys, h5py
d = sys.argv[1]
for f in ("timeline.png", "memory.png"):
    assert open("%s/%s" % (d, f), "rb").read(8) == b"\x89PNG\r\n\x1a\n", f
for p in ("graphpipe", "pipedream"):
    with h5py.File("%s/%s.h5" % (d, p), "r") as h:
        assert h["tasks"].shape[0] > 0, p
        assert h["summary"].attrs["n_devices_used"] == 16, p
    ev = json.load(open("%s/%s-trace.json" % (d, p)))["traceEvents"]
    assert any(e.get("ph") == "X" for e in ev), p
    plan = open("%s/%s-plan.yaml" % (d, p)).read()
    assert plan.startswith("# planner: %s" % p) and "stages:" in plan, p
PYEOF

# The same study as JSON in another folder: the figures match the table,
# and every written file but the plans' search-time header is identical.
demo b --json
rc=$?
[ $rc -eq 0 ] || fail "demo --json exited $rc: $(cat "$TMP/b/stderr")"
"$PY" - "$TMP/b/stdout" "$T" <<'PYEOF' || fail "JSON disagrees with the table or GraphPipe is not ahead"
import json, sys
doc = json.load(open(sys.argv[1]))
table = open(sys.argv[2]).read().split("\n")
rows = {r["planner"]: r for r in doc["planners"]}
assert list(rows) == ["graphpipe", "pipedream", "piper"], list(rows)
assert (doc["model"], doc["cluster"], doc["gpus"], doc["batch"]) == \
    ("mmt", "summit", 16, 128)
assert doc["device_memory_bytes"] == 16 * 2**30 and doc["plots"]
g, p, q = rows["graphpipe"], rows["pipedream"], rows["piper"]
assert q["found"] and q["depth"] == q["stages"], q
assert g["depth"] < p["depth"] == p["stages"], (g["depth"], p["depth"])
assert g["samples_per_s"] > p["samples_per_s"]
assert abs(g["speedup_vs_pipedream"] - g["samples_per_s"] / p["samples_per_s"]) < 1e-12
assert abs(g["samples_per_s"] * g["iteration_time"] - 128) < 1e-6
for r in (g, p):
    assert 0 < r["bubble_fraction"] < 1 and not r["oom"]
    assert 0 < r["peak_mem_bytes"] < doc["device_memory_bytes"]
    line = next(l for l in table if l.startswith(r["planner"] + " "))
    cols = line.split()
    assert cols[1] == "%d/%d" % (r["stages"], r["depth"]), line
    assert cols[2] == str(r["micro_batch"]), line
    assert cols[3] == "%.2f" % r["samples_per_s"], line
    assert cols[4] == "%.2f" % (r["iteration_time"] * 1e3), line
    assert cols[6] == "%.2f" % (r["peak_mem_bytes"] / 2**30), line
PYEOF
# The README states the default demo's throughputs: they are this run's.
"$PY" - "$TMP/b/stdout" "$(dirname "$0")/../README.md" <<'PYEOF' || fail "README's demo figures differ from the run"
import json, re, sys
rows = {r["planner"]: r for r in json.load(open(sys.argv[1]))["planners"]}
text = " ".join(open(sys.argv[2]).read().split())
m = re.search(r"GraphPipe's plan runs at ([0-9.]+) samples/s, ([0-9.]+)x "
              r"PipeDream's ([0-9.]+), and Piper's at ([0-9.]+)", text)
assert m, "no demo figures in the README"
g, p, q = (rows[k]["samples_per_s"] for k in ("graphpipe", "pipedream", "piper"))
want = ("%.1f" % g, "%.2f" % (g / p), "%.1f" % p, "%.1f" % q)
assert m.groups() == want, (m.groups(), want)
m = re.search(r"an? (\d+)-stage plan that simulates within ([0-9.]+)% of "
              r"PipeDream's", text)
assert m and rows["piper"]["stages"] == int(m.group(1)), "no Piper plan figure"
assert abs(q / p - 1) <= float(m.group(2)) / 100, (q, p)
PYEOF
for f in graphpipe.h5 graphpipe-trace.json pipedream.h5 pipedream-trace.json \
         timeline.png memory.png; do
  cmp -s "$TMP/a/out/$f" "$TMP/b/out/$f" || fail "$f differs between runs"
done
for p in graphpipe pipedream; do
  tail -n +2 "$TMP/a/out/$p-plan.yaml" > "$TMP/pa"
  tail -n +2 "$TMP/b/out/$p-plan.yaml" > "$TMP/pb"
  cmp -s "$TMP/pa" "$TMP/pb" || fail "$p plan differs between runs"
done

# No Python: the table still comes out, without plots.  The synthetic
# 2-branch model is small enough for Piper to plan.
GPP_PYTHON=/nonexistent demo c --model synthetic --gpus 8 --batch 64
rc=$?
[ $rc -eq 0 ] || fail "demo without python exited $rc"
grep -q '^demo: no plots: /nonexistent cannot import matplotlib' "$TMP/c/stderr" ||
  fail "no note on the missing python: $(tail -1 "$TMP/c/stderr")"
[ ! -e "$TMP/c/out/timeline.png" ] || fail "timeline.png drawn without python"
[ -s "$TMP/c/out/piper.h5" ] || fail "no piper results for the synthetic model"
grep -Eq '^piper +[0-9]+/[0-9]+ ' "$TMP/c/stdout" || fail "no piper row with numbers"

# No planner fits a 20M-row embedding table (1.28 G parameters, 16 bytes
# each in fp32 with Adam: 20.5 GB) on one 16 GiB V100: every row says so,
# nothing is drawn, exit 3.
mkdir -p "$TMP/d"
cat > "$TMP/d/bigemb.yaml" <<'EOF'
name: bigemb
graph:
  - {input: ids, width: 10}
  - {embedding_bag: emb, rows: 20M, dim: 64, bag: 10}
  - {linear: out, out: 1}
  - {loss: loss}
EOF
demo d --model bigemb.yaml --gpus 1
rc=$?
[ $rc -eq 3 ] || fail "bigemb on 1 GPU: exit $rc, expected 3"
[ "$(grep -c '^[a-z]* *no plan' "$TMP/d/stdout")" -eq 3 ] ||
  fail "bigemb on 1 GPU: not three no-plan rows: $(cat "$TMP/d/stdout")"
grep -q '^gppsim: no planner found a plan for bigemb on 1 GPUs' "$TMP/d/stderr" ||
  fail "bigemb on 1 GPU: no final message"
[ ! -e "$TMP/d/out/timeline.png" ] || fail "timeline drawn without plans"

# Bad arguments: exit 2 with a message.
bad() {
  want=$1; shift
  (cd "$TMP" && "$GPPSIM" demo "$@" > /dev/null 2> "$TMP/bad.err")
  rc=$?
  [ $rc -eq 2 ] || fail "demo $*: exit $rc, expected 2"
  grep -q -- "$want" "$TMP/bad.err" || fail "demo $*: no '$want' in: $(cat "$TMP/bad.err")"
}
bad "expects an integer in 1..65536" --gpus 0
bad "has only 32" --gpus 64
bad "bundled models: candle_uno, dlrm, gpt, mmt, synthetic" --model nosuch
bad "is not a folder" --out "$TMP/a/stdout"
bad "unexpected argument" extra
bad "expects an integer" --batch 1x
[ ! -e "$TMP/gppsim-demo" ] || fail "a failed demo left an output folder"
"$GPPSIM" demo --help | grep -q '^usage: gppsim demo' || fail "--help"

finish cli_demo
