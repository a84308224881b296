#!/usr/bin/env bash
# setup.sh -- the README's two commands: install what is missing (Debian
# packages only), build (Release), then run the main job or the test suite.
#
#   bash .ci/setup.sh run     # build and run the main job (gppsim demo)
#   bash .ci/setup.sh test    # build and run every test, the fuzz smoke
#                             # (tests/fuzz, clang), then the unit and CLI
#                             # tests again under ASan+UBSan
#
# Run as root or as a user with sudo.  Environment: BUILD_DIR (default
# build), GPP_SANITIZE=ON for an ASan+UBSan main build, JOBS (default
# nproc), SANITIZE_DIR (default build-sanitize: the second, ASan+UBSan
# build of `test`), GPP_SANITIZE_SUITE=0 to skip that second pass, FUZZ_DIR
# (default build-fuzz: the libFuzzer build), GPP_FUZZ_SUITE=0 to skip it.
set -euo pipefail

mode=${1:-run}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

case "$mode" in
  run|test) ;;
  -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup.sh: unknown mode '$mode' (expected run or test)" >&2; exit 2 ;;
esac

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
  local wanted missing=()
  wanted=$(grep -v '^\s*#' "$root/.ci/packages.txt" | grep -v '^\s*$')
  for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}"
  fi
}

build_all() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DGPP_SANITIZE="${GPP_SANITIZE:-OFF}"
  cmake --build "$build" -j "$jobs"
}

install_missing
build_all
cd "$root"
if [ "$mode" = run ]; then
  # The demo study: MMT on Summit with each planner; files in $build/demo.
  exec "$build/gppsim" demo --out "$build/demo"
fi
ctest --test-dir "$build" --output-on-failure -j "$jobs"
if [ "${GPP_FUZZ_SUITE:-1}" != 0 ]; then
  # Every fuzz target replays its regression inputs (tests/fuzz/regress:
  # each once failed) and fuzzes for GPP_FUZZ_SECONDS (20) under ASan+UBSan.
  fuzz=${FUZZ_DIR:-$root/build-fuzz}
  cmake -S "$root" -B "$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DGPP_FUZZ=ON
  cmake --build "$fuzz" -j "$jobs" --target fuzz_all
  ctest --test-dir "$fuzz" --output-on-failure -j "$jobs" -L fuzz
fi
[ "${GPP_SANITIZE_SUITE:-1}" = 0 ] && exit 0
# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer, so a
# sanitizer finding fails the run.  Excluded: the `slow` label (reproduce
# all, the PyTorch import of MMT and the 4,096-GPU network cases: minutes
# each even in Release) and cli_demo / cli_bundle / docs_readme (the whole
# demo with Piper's search: over 10 minutes under the sanitizers); the fast
# tests cover their code paths (plan, simulate, reproduce s75, bundle).
san=${SANITIZE_DIR:-$root/build-sanitize}
cmake -S "$root" -B "$san" -DCMAKE_BUILD_TYPE=Debug -DGPP_SANITIZE=ON
cmake --build "$san" -j "$jobs"
exec ctest --test-dir "$san" --output-on-failure -j "$jobs" -LE slow \
  -E '^(cli_demo|cli_bundle|docs_readme)$'
