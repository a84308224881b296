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

# same_points A.h5 B.h5 [ROWS]: the sweep results' /points tables hold the
# same bytes (and, given ROWS, that many rows).  Needs /usr/bin/python3
# with h5py.
same_points() {
  /usr/bin/python3 - "$1" "$2" "${3:--1}" <<'PYEOF'
import sys, h5py
a, b = (h5py.File(p, "r")["points"][:] for p in sys.argv[1:3])
rows = int(sys.argv[3])
ok = len(a) == len(b) and a.tobytes() == b.tobytes()
sys.exit(0 if ok and rows in (-1, len(a)) else 1)
PYEOF
}

finish() {
  if [ "$fails" -eq 0 ]; then
    echo "$1: all passed"
    exit 0
  fi
  echo "$1: $fails failure(s)"
  exit 1
}

# need_python_modules MODULE...: exits 77 (the tests' SKIP_RETURN_CODE)
# with a message when /usr/bin/python3 cannot import them all.
need_python_modules() {
  /usr/bin/python3 -c "import $(echo "$*" | tr ' ' ',')" 2>/dev/null &&
    return 0
  echo "SKIP: /usr/bin/python3 cannot import $* (install the Debian" \
       "packages $(printf 'python3-%s ' "$@")as .ci/packages.txt lists)"
  exit 77
}
