#!/bin/sh
# plan_quality.sh -- records the simulated iteration of every planner's
# plan on the bundled models, so that a change to the searches can be
# checked against the plans found before it (issue 16: within 1%).
#
#   plan_quality.sh record GPPSIM OUT.tsv [MAX_GPUS]   (default 512)
#   plan_quality.sh compare BEFORE.tsv AFTER.tsv [TOL]  (default 0.01)
#
# record: GraphPipe and PipeDream on candle_uno, dlrm, gpt, mmt and
# synthetic at 8, 16, ... MAX_GPUS GPUs of DGX H100 nodes (8 samples per
# GPU), and GraphPipe, PipeDream and Piper on the same models at 4..32
# GPUs of the Summit-like cluster at batch 128 (paper Table 1); one row
# per run: cluster, model, GPUs, batch, planner, estimate and simulated
# iteration (s), search seconds, or "noplan".  compare: per row, the
# after/before ratio of the simulated iteration, flagged when above
# 1 + TOL; exit 1 when any is (or a row went missing).  plan_quality_7457700.tsv
# is the record of main at 7457700, before issue 16's search changes.
set -u

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit "$1"
}

one() { # cluster-file cluster-name model gpus batch planner
  line=$("$GPPSIM" plan --model "configs/models/$3.yaml" --cluster "$1" \
    --gpus "$4" --batch "$5" --planner "$6" --json 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys
try:
    d = json.load(sys.stdin)
    print("%.9g\t%.9g\t%.3f" % (d["iteration_estimate"],
          d["iteration_simulated"], d["search_seconds"]))
except Exception:
    print("noplan\tnoplan\t-")')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$4" "$5" "$6" "$line" >> "$OUT"
  printf '%s %s %s %s: %s\n' "$2" "$3" "$4" "$6" "$line" >&2
}

record() {
  GPPSIM=$1 OUT=$2 MAX=${3:-512}
  SRC=$(cd "$(dirname "$0")/.." && pwd)
  cd "$SRC" || exit 1
  TMPC=$(mktemp -d)
  trap 'rm -rf "$TMPC"' EXIT
  nodes=$((MAX / 8))
  sed "s/^nodes: .*/nodes: $nodes/" configs/clusters/dgx-h100.yaml \
    > "$TMPC/h100.yaml"
  : > "$OUT"
  for m in candle_uno dlrm gpt mmt synthetic; do
    for g in 4 8 16 32; do
      for p in graphpipe pipedream piper; do
        one configs/clusters/summit.yaml summit "$m" "$g" 128 "$p"
      done
    done
    g=8
    while [ "$g" -le "$MAX" ]; do
      for p in graphpipe pipedream; do
        one "$TMPC/h100.yaml" dgx-h100 "$m" "$g" $((8 * g)) "$p"
      done
      g=$((2 * g))
    done
  done
}

compare() {
  /usr/bin/python3 - "$1" "$2" "${3:-0.01}" <<'EOF'
import sys
def rows(path):
    out = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        out[tuple(f[:5])] = f[5:]
    return out
before, after, tol = rows(sys.argv[1]), rows(sys.argv[2]), float(sys.argv[3])
bad = 0
for k, b in before.items():
    a = after.get(k)
    if a is None:
        print("missing", *k); bad += 1; continue
    if b[1] == "noplan" or a[1] == "noplan":
        same = b[1] == a[1]
        print("%-40s %s -> %s%s" % (" ".join(k), b[1], a[1], "" if same else "  !"))
        bad += not same and a[1] == "noplan"
        continue
    r = float(a[1]) / float(b[1])
    flag = "  !" if r > 1 + tol else ""
    bad += r > 1 + tol
    print("%-40s sim %.6f -> %.6f (x%.4f)  search %s -> %s s%s"
          % (" ".join(k), float(b[1]), float(a[1]), r, b[2], a[2], flag))
print("%d of %d rows worse than %.1f%%" % (bad, len(before), 100 * tol))
sys.exit(1 if bad else 0)
EOF
}

case "${1:-}" in
  record) [ $# -ge 3 ] || usage 2; shift; record "$@" ;;
  compare) [ $# -ge 3 ] || usage 2; shift; compare "$@" ;;
  --help|-h) usage 0 ;;
  *) usage 2 ;;
esac
