# lib.sh -- what the whole-program tests share.  Source it from a test
# script (run as `sh tests/NAME.sh ...`) after `set -u`:
#
#   . "$(dirname "$0")/lib.sh"
#   ...
#   fail "what went wrong"      # counts a failure and goes on
#   ...
#   finish NAME                 # prints the verdict, exits 0 or 1
#
# TMP is a fresh temporary folder, removed when the script exits.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gppsim-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

finish() {
  if [ "$fails" -eq 0 ]; then
    echo "$1: all passed"
    exit 0
  fi
  echo "$1: $fails failure(s)"
  exit 1
}
