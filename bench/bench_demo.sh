#!/usr/bin/env bash
# bench_demo.sh -- measures the times README.md states: `gppsim demo` (wall
# and CPU seconds, and Piper's search inside it) and `gppsim reproduce all`
# with its plots, on a Release build, and writes them with the date, the
# machine's CPU count and its load average into a record that
# tests/docs_readme.py holds the README's time figures to.
#
#   bench/bench_demo.sh GPPSIM [RECORD [RUNS]]
#
# GPPSIM is a Release build's gppsim (its CMakeCache.txt says so).
# RECORD (default bench/results/readme-figures.txt) is written through a
# temporary file and renamed.  The demo runs RUNS times (default 3) and the
# record keeps the run with the median wall time; reproduce all runs once.
# The load is the 1-minute load average just before each timed run.
# Exit status: 0 measured, 1 a run failed, 2 bad arguments.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

BENCH_NAME=bench_demo.sh
BENCH_USAGE="bench_demo.sh GPPSIM [RECORD [RUNS]]"
BENCH_HELP=15
. "$here/bench_lib.sh"

# build_type GPPSIM: the CMAKE_BUILD_TYPE of the build folder holding it.
build_type() {
  local cache
  cache=$(dirname "$1")/CMakeCache.txt
  [ -r "$cache" ] || return 1
  sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache"
}

# piper_search FILE.json: Piper's search seconds in a `demo --json` table.
piper_search() {
  /usr/bin/python3 -c 'import json, sys
rows = json.load(open(sys.argv[1]))["planners"]
print("%.3f" % next(r["search_seconds"] for r in rows if r["planner"] == "piper"))' "$1"
}

# demo_runs N: runs the demo N times; prints "wall cpu load piper" per run.
demo_runs() {
  local i
  for i in $(seq 1 "$1"); do
    timed "demo$i" "$gppsim" demo --json --out "$work/demo$i"
    echo "$WALL $CPU $LOAD $(piper_search "$work/demo$i.out")"
    echo "bench_demo.sh: demo run $i: $WALL s wall, $CPU s CPU, load $LOAD" >&2
  done
}

case "${1:-}" in
  -h|--help) usage 0 ;;
  "") usage 2 >&2 ;;
esac
[ $# -le 3 ] || die 2 "at most three arguments (GPPSIM RECORD RUNS); see --help"
gppsim=$(cd "$(dirname "$1")" 2> /dev/null && pwd)/$(basename "$1")
[ -x "$gppsim" ] && [ -f "$gppsim" ] || die 2 "$1 is not an executable file"
record=${2:-$here/results/readme-figures.txt}
runs=${3:-3}
case "$runs" in
  ''|*[!0-9]*|0) die 2 "RUNS must be a positive integer, not '$runs'" ;;
esac
type=$(build_type "$gppsim") || die 2 "$1: no CMakeCache.txt beside it, so not a known build"
[ "$type" = Release ] || die 2 "$1 is a '$type' build; the README's times are a Release build's"
[ -d "$(dirname "$record")" ] || die 2 "$(dirname "$record") is not a folder"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench_demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || die 1 "cannot enter $work"

demo_runs "$runs" > "$work/demo.runs"
read -r d_wall d_cpu d_load d_piper <<< "$(sort -n "$work/demo.runs" |
  awk -v n="$runs" 'NR == int((n + 1) / 2)')"
d_min=$(awk '{ print $1 }' "$work"/demo*.time | sort -n | head -n 1)
d_max=$(awk '{ print $1 }' "$work"/demo*.time | sort -n | tail -n 1)
timed reproduce "$gppsim" reproduce all --out "$work/reproduction"
echo "bench_demo.sh: reproduce all: $WALL s wall, $CPU s CPU, load $LOAD" >&2

{
  echo "# The times README.md states, measured by bench/bench_demo.sh (do not"
  echo "# edit: rerun it; tests/docs_readme.py checks the README against this)."
  echo "date: $(date -u +%Y-%m-%d)"
  echo "time_utc: $(date -u +%H:%M:%S)"
  echo "source: $(git -C "$root" describe --always --dirty 2> /dev/null || echo unknown)"
  echo "build: $type"
  echo "cpus: $(nproc)"
  echo "cpu_model: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "demo_runs: $runs"
  echo "demo_wall_s: $d_wall"
  echo "demo_wall_min_s: $d_min"
  echo "demo_wall_max_s: $d_max"
  echo "demo_cpu_s: $d_cpu"
  echo "demo_load: $d_load"
  echo "demo_piper_search_s: $d_piper"
  echo "reproduce_all_wall_s: $WALL"
  echo "reproduce_all_cpu_s: $CPU"
  echo "reproduce_all_load: $LOAD"
} > "$record.tmp" && mv "$record.tmp" "$record" || die 1 "cannot write $record"
cat "$record"
