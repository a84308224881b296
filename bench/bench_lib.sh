# bench_lib.sh -- what the benchmark scripts share, sourced after they set
#   BENCH_NAME   the script's name, for messages;
#   BENCH_USAGE  its usage line (after "usage: ");
#   BENCH_HELP   the last line of its header comment, which --help prints.
# Gives usage STATUS, die STATUS MESSAGE and timed NAME CMD... (the last
# needs $work, a scratch folder).

# usage STATUS: the usage line and the header comment (lines 2 to
# BENCH_HELP of the script), then exit STATUS.
usage() {
  echo "usage: $BENCH_USAGE"
  echo
  sed -n "2,${BENCH_HELP}p" "$0" | sed 's/^# \{0,1\}//'
  exit "$1"
}

die() { # status message
  echo "$BENCH_NAME: $2" >&2
  exit "$1"
}

# timed NAME CMD...: runs CMD with stdout in $work/NAME.out and stderr in
# $work/NAME.err; sets WALL and CPU (user + system, children included) in
# seconds and LOAD (the 1-minute load average before the run).
timed() {
  local name=$1 u s
  shift
  LOAD=$(cut -d' ' -f1 /proc/loadavg)
  TIMEFORMAT='%3R %3U %3S'
  { time "$@" > "$work/$name.out" 2> "$work/$name.err"; } 2> "$work/$name.time" ||
    die 1 "$name failed: $(tail -n 3 "$work/$name.err")"
  read -r WALL u s < "$work/$name.time"
  CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
}
