#!/bin/sh
# cli_reproduce.sh -- whole-program checks of `gppsim reproduce`:
#   fast (label cli): --help and --list; `reproduce s75` writes the results,
#   the figure (PNG and PDF), the two replayed plans with their traces and,
#   when plots/timeline.py exists, their timelines; the s75 results carry
#   GraphPipe's shallower plan; REPRODUCTION.md regenerates byte-for-byte
#   from the committed results, and its s75 section from this fresh run
#   (no wall-clock figures in it); bad input exits 2, a Python without
#   matplotlib exits 1 with a message.
#   slow (label slow, with the argument `all`): `reproduce all` draws every
#   experiment's figure and writes REPRODUCTION.md.
# Usage: cli_reproduce.sh GPPSIM SOURCE_DIR [all]
set -u
GPPSIM=$1
SRC=$2
MODE=${3:-fast}
PY=/usr/bin/python3
. "$(dirname "$0")/lib.sh"

nonempty() {
  [ -s "$1" ] || fail "missing or empty: $1"
}

if [ "$MODE" = all ]; then
  start=$(date +%s)
  "$GPPSIM" reproduce all --out "$TMP/all" > "$TMP/all.out" 2> "$TMP/all.err" ||
    fail "reproduce all exited $?: $(tail -5 "$TMP/all.err")"
  for f in "$SRC"/configs/experiments/paper/*.yaml; do
    n=$(basename "$f" .yaml)
    nonempty "$TMP/all/$n.h5"; nonempty "$TMP/all/$n.png"; nonempty "$TMP/all/$n.pdf"
  done
  nonempty "$TMP/all/REPRODUCTION.md"
  echo "reproduce all: $(( $(date +%s) - start )) s"
  finish "cli_reproduce all"
fi

"$GPPSIM" reproduce --help | grep -q "usage: gppsim reproduce" || fail "--help"
"$GPPSIM" reproduce --list > "$TMP/list" || fail "--list exited $?"
for n in fig6 fig7_left fig7_right fig9 s75 a3; do
  grep -q "^$n " "$TMP/list" || fail "--list lacks $n"
done
"$GPPSIM" reproduce --list --json > "$TMP/list.json" || fail "--list --json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if len(d) == 6 and all(e["description"] for e in d) else 1)' \
  "$TMP/list.json" || fail "--list --json: $(cat "$TMP/list.json")"

# reproduce s75: results, figure, replayed plans and traces.
"$GPPSIM" reproduce s75 --out "$TMP/r" --json > "$TMP/s75.json" 2> "$TMP/s75.err" ||
  fail "reproduce s75 exited $?: $(cat "$TMP/s75.err")"
for f in s75.h5 s75.png s75.pdf s75-p0-graphpipe.h5 s75-p0-graphpipe.trace.json \
         s75-p1-pipedream.h5 s75-p1-pipedream.trace.json; do
  nonempty "$TMP/r/$f"
done
if [ -f "$SRC/plots/timeline.py" ]; then
  nonempty "$TMP/r/s75-p0-graphpipe-timeline.png"
  nonempty "$TMP/r/s75-p1-pipedream-timeline.png"
fi
grep -q "reproduce s75: 2/2" "$TMP/s75.err" || fail "no progress per point"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["experiments"][0]; sys.exit(0 if e["name"] == "s75" and e["points"] == 2 and e["png"].endswith("s75.png") else 1)' \
  "$TMP/s75.json" || fail "reproduce --json: $(cat "$TMP/s75.json")"
# GraphPipe's plan is shallower than PipeDream's and at least as fast.
"$PY" - "$TMP/r/s75.h5" <<'PYEOF' || fail "s75 results"
import sys, h5py
p = {r["planner"].decode(): r for r in h5py.File(sys.argv[1])["points"][()]}
g, s = p["graphpipe"], p["pipedream"]
assert g["status"] == b"ok" and s["status"] == b"ok", (g, s)
assert g["depth"] < s["depth"] == 8, (g["depth"], s["depth"])
assert g["throughput"] > s["throughput"], (g["throughput"], s["throughput"])
PYEOF

# REPRODUCTION.md: from the committed results, byte-for-byte; the s75
# section of this fresh run equals the committed one.
MD="$PY $SRC/plots/reproduction_md.py"
$MD "$SRC/configs/experiments/paper/results" --out "$TMP/R.md" || fail "reproduction_md.py"
cmp -s "$TMP/R.md" "$SRC/REPRODUCTION.md" ||
  fail "REPRODUCTION.md is stale: regenerate it with plots/reproduction_md.py configs/experiments/paper/results --out REPRODUCTION.md"
$MD "$TMP/r" --section s75 > "$TMP/fresh.md" && \
  $MD "$SRC/configs/experiments/paper/results" --section s75 > "$TMP/kept.md" ||
  fail "reproduction_md.py --section"
cmp -s "$TMP/fresh.md" "$TMP/kept.md" ||
  fail "s75 differs from the committed results: $(diff "$TMP/kept.md" "$TMP/fresh.md")"

# Bad input: exit 2 with a message; a Python without matplotlib: exit 1.
bad() {
  want=$1; code=$2; shift 2
  "$@" > /dev/null 2> "$TMP/bad.err"
  rc=$?
  [ $rc -eq "$code" ] || fail "$*: exit $rc, expected $code"
  grep -q "$want" "$TMP/bad.err" || fail "$*: message '$(cat "$TMP/bad.err")' lacks '$want'"
}
bad "did you mean 'fig7_left'" 2 "$GPPSIM" reproduce fig7-left --out "$TMP/x"
bad "name an experiment" 2 "$GPPSIM" reproduce
bad "cannot read the experiments folder" 2 "$GPPSIM" reproduce all --experiments "$TMP/none"
printf 'name: broken\nmodels: [configs/models/mmt.yaml]\nclusters: [configs/clusters/summit.yaml]\ngrid: {batch: [8], gpuz: [4]}\n' \
  > "$TMP/broken.yaml"
mkdir "$TMP/exps" && cp "$TMP/broken.yaml" "$TMP/exps/"
bad "broken.yaml:4:.*did you mean 'gpus'" 2 "$GPPSIM" reproduce --list --experiments "$TMP/exps"
bad "cannot import matplotlib and h5py" 1 env GPP_PYTHON=/bin/false "$GPPSIM" reproduce s75 --out "$TMP/y"

finish cli_reproduce
