#!/bin/bash
# cli_outputs.sh -- fault tests for every file gppsim writes: simulate's
# --out results and --trace, plan --out, sweep --out (and its .partial),
# reproduce's folder, and a profile (through synth_profile, which writes
# with the library's profile writer).
#   1. kill -9 at random points (KILLS per writer, default 10): the output
#      is the old file or no file, never a truncated one (outputs are
#      bit-identical for the same inputs, so "old" is the reference bytes).
#   2. ENOSPC on a tiny tmpfs and a read-only folder: exit 1 naming the path
#      and the system's reason, and nothing (not even a temporary) left.
#   3. with the argument `resume` (label slow): `sweep --resume` after
#      kill -9 at 20 random points ends with every row, and keeps the rows
#      of a readable working file (.partial); working files a kill left
#      unreadable are counted (a known gap: it is appended in place).
# Section 2 needs root (mount); it is skipped with a note elsewhere.
# Usage: cli_outputs.sh GPPSIM SOURCE_DIR SYNTH_PROFILE [resume]
set -u
GPPSIM=$1
SRC=$2
SYNTH=$3
MODE=${4:-fast}
KILLS=${KILLS:-10}
[ "$MODE" = resume ] && KILLS=0 # only section 3
export GPP_SOURCE_DIR="$SRC"
PLAN="$SRC/configs/experiments/plans/mmt-gpp-8.yaml"
CLUSTER="$SRC/configs/clusters/summit.yaml"
TINY="$SRC/configs/experiments/sweeps/tiny.yaml"
. "$(dirname "$0")/lib.sh"
RANDOM=$$

# The writers: write_<name> OUT runs it with OUT as its output, in place of
# the calling (sub)shell, so that kill -9 reaches the writer itself: call
# them as `(write_x OUT)` or `write_x OUT &`.
write_results() { exec "$GPPSIM" simulate --plan "$PLAN" --cluster "$CLUSTER" --out "$1"; }
write_trace() { exec "$GPPSIM" simulate --plan "$PLAN" --cluster "$CLUSTER" --trace "$1"; }
write_plan() {
  exec "$GPPSIM" plan --model "$SRC/configs/models/mmt.yaml" --cluster "$CLUSTER" \
    --gpus 8 --batch 64 --out "$1"
}
write_sweep() { exec "$GPPSIM" sweep "$TINY" --out "$1" --quiet; }
write_profile() { exec "$SYNTH" "$SRC/configs/models/mmt.yaml" h100-sxm-80gb "$1"; }
write_reproduce() { exec "$GPPSIM" reproduce s75 --no-plots --out "$1"; }
WRITERS="results trace plan sweep profile reproduce"

# whole REF OUT: OUT is REF's bytes, or (outputs whose bytes vary from run
# to run: sweep timings, profile metadata, trace paths) a complete file:
# HDF5 that opens with every dataset readable, JSON that parses.
whole() {
  cmp -s "$1" "$2" && return 0
  case $2 in
    *.h5|*.partial|*/results/o|*/sweep/o|*/profile/o)
      /usr/bin/python3 - "$2" <<'PYEOF' 2> /dev/null ;;
import sys, h5py
def read(name, obj):
    if isinstance(obj, h5py.Dataset):
        obj[()]
with h5py.File(sys.argv[1], "r") as f:
    f.visititems(read)
PYEOF
    *.json|*/trace/o) /usr/bin/python3 -c \
      "import json,sys; json.load(open(sys.argv[1]))" "$2" 2> /dev/null ;;
    *) return 1 ;;
  esac
}

# snap DIR: the names, sizes and times of what DIR holds.
snap() { ls -l --time-style=+%s.%N "$1" 2> /dev/null | cksum; }

# ---- 1. kill -9 anywhere: the old output or none, never a torn one ------
# Odd tries start from the old output, even ones from none; the first half
# kill at a random time of the run, the second half as soon as anything in
# the output's folder changes (a writer that wrote in place would be caught
# with its file half-written).
[ "$KILLS" -gt 0 ] && for w in $WRITERS; do
  ref="$TMP/ref-$w"
  t0=$(date +%s%N)
  ("write_$w" "$ref") > /dev/null 2>&1 || { fail "$w: reference run"; continue; }
  ms=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
  mkdir -p "$TMP/$w"
  out="$TMP/$w/o"
  for i in $(seq "$KILLS"); do
    rm -rf "$TMP/$w"/*
    [ $((i % 2)) -eq 1 ] && cp -r "$ref" "$out"
    before=$(snap "$TMP/$w")
    old_id=$(stat -c '%i %y' "$out" 2> /dev/null)
    "write_$w" "$out" > /dev/null 2>&1 &
    pid=$!
    if [ $((i * 2)) -le "$KILLS" ]; then
      sleep "$(printf '0.%03d' $((RANDOM % ms % 1000)))"
    else
      n=0
      while [ "$(snap "$TMP/$w")" = "$before" ] && [ $n -lt 5000 ] &&
            kill -0 $pid 2> /dev/null; do n=$((n + 1)); done
    fi
    kill -9 $pid 2> /dev/null
    wait $pid 2> /dev/null
    # The old file is replaced (a new inode), never rewritten where it is.
    if [ -f "$out" ] && [ -n "$old_id" ]; then
      new_id=$(stat -c '%i %y' "$out")
      [ "${new_id%% *}" = "${old_id%% *}" ] && [ "$new_id" != "$old_id" ] &&
        fail "$w: the old file was rewritten in place (try $i)"
    fi
    if [ -f "$out" ]; then
      whole "$ref" "$out" ||
        fail "$w: kill -9 left a file that is neither old nor whole (try $i)"
    elif [ -d "$out" ]; then
      # A folder fills file by file: each file present is whole.
      for f in "$out"/*; do
        [ -f "$f" ] || continue
        # The sweep's working file, and a temporary the kill caught (NAME.tmp.PID,
        # never an output: the next write of NAME removes it, outfile.c).
        case $f in *.partial|*.tmp.*) continue ;; esac
        whole "$ref/$(basename "$f")" "$f" ||
          fail "$w: torn $(basename "$f") (try $i)"
      done
    fi
  done
  echo "$w: $KILLS kills within ${ms} ms runs"
done

# ---- 2. a full disk and a read-only folder -------------------------------
# nothing_left DIR WHAT: DIR holds no output and no temporary.
nothing_left() {
  left=$(ls -A "$1" | grep -v '^fill$')
  [ -z "$left" ] || fail "$2: left behind: $left"
}
DISK="$TMP/disk"
mkdir "$DISK"
if [ "$MODE" = resume ]; then :
elif mount -t tmpfs -o size=256k tmpfs "$DISK" 2> /dev/null; then
  trap 'umount "$DISK" 2> /dev/null; rm -rf "$TMP"' EXIT
  for w in $WRITERS; do
    [ "$w" = reproduce ] && continue # a folder: the read-only case below
    echo old > "$DISK/o"
    head -c 1M /dev/zero > "$DISK/fill" 2> /dev/null
    ("write_$w" "$DISK/o") > /dev/null 2> "$TMP/err"
    rc=$?
    [ $rc -eq 1 ] || fail "$w on a full disk: exit $rc, want 1: $(tail -1 "$TMP/err")"
    grep -q "$DISK/o.*No space left on device" "$TMP/err" ||
      fail "$w on a full disk: no path and reason: $(tail -2 "$TMP/err")"
    [ "$w" = sweep ] && rm -f "$DISK/o.partial" # kept for --resume
    [ "$(cat "$DISK/o" 2> /dev/null)" = old ] ||
      fail "$w on a full disk: the old file was not kept"
    rm -f "$DISK/o"
    nothing_left "$DISK" "$w on a full disk"
    echo "$w on a full disk: exit $rc, $(grep -o 'No space left on device' "$TMP/err" | head -1)"
    rm -f "$DISK/fill"
  done
  mount -o remount,ro "$DISK"
  for w in $WRITERS; do
    ("write_$w" "$DISK/o") > /dev/null 2> "$TMP/err"
    rc=$?
    [ $rc -eq 1 ] || fail "$w in a read-only folder: exit $rc, want 1: $(tail -1 "$TMP/err")"
    grep -q "$DISK/o.*Read-only file system" "$TMP/err" ||
      fail "$w in a read-only folder: no path and reason: $(tail -2 "$TMP/err")"
    nothing_left "$DISK" "$w in a read-only folder"
    echo "$w in a read-only folder: exit $rc, $(grep -o 'Read-only file system' "$TMP/err" | head -1)"
  done
  umount "$DISK"
else
  echo "SKIP: full disk and read-only folder: cannot mount a tmpfs (needs root)"
fi

# ---- 3. sweep --resume after kill -9 at 20 random points -----------------
if [ "$MODE" = resume ]; then
  ref="$TMP/ref-sweep"
  [ -e "$ref" ] || (write_sweep "$ref") > /dev/null 2>&1
  t0=$(date +%s%N)
  (write_sweep "$TMP/timed.h5") > /dev/null 2>&1
  ms=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
  torn=0
  for i in $(seq 20); do
    out="$TMP/res.h5"
    rm -f "$out" "$out.partial"
    write_sweep "$out" > /dev/null 2>&1 &
    pid=$!
    at=$((RANDOM % ms))
    sleep "$(printf '%d.%03d' $((at / 1000)) $((at % 1000)))"
    kill -9 $pid 2> /dev/null
    wait $pid 2> /dev/null
    rows=none
    # Readable as gppsim reads it back: the rows and every point's plan
    # (a kill inside a later append can tear the plans group's metadata
    # while /points still reads).
    [ -e "$out.partial" ] && rows=$(/usr/bin/python3 -c \
      "import h5py,sys; f=h5py.File(sys.argv[1],'r'); n=len(f['points']); [f['plans'][str(p)][()] for p in f['points']['point']]; print(n)" \
      "$out.partial" 2> "$TMP/py.err" || echo torn)
    [ "$rows" = torn ] && echo "unreadable working file: $(tail -1 "$TMP/py.err")"
    "$GPPSIM" sweep "$TINY" --out "$out" --resume --quiet > /dev/null \
      2> "$TMP/resume.err" || fail "resume after kill at $at ms: $(tail -1 "$TMP/resume.err")"
    same_points "$ref" "$out" 32 || fail "resume after kill at $at ms: rows differ"
    # A readable working file's rows are kept (no "starting over" warning).
    case $rows in
      none|torn) ;;
      *) grep -qi warning "$TMP/resume.err" &&
           fail "resume after kill at $at ms: $rows finished rows dropped: $(cat "$TMP/resume.err")" ;;
    esac
    [ "$rows" = torn ] && torn=$((torn + 1))
    echo "kill at $at ms: working file rows: $rows; resumed to 32" \
      "$(grep -i warning "$TMP/resume.err" | head -1)"
  done
  # Known (issue 18 report): the working file is appended in place, so a
  # kill inside an HDF5 write can leave it unreadable and its rows are
  # recomputed; counted here, not failed.
  echo "resume: $torn of 20 kills left an unreadable working file"
fi

finish cli_outputs
