#!/usr/bin/env bash
# bench_fsdp.sh -- one iteration of a pipelined FSDP plan through the flow
# network: the GPT of configs/models/gpt.yaml (24 layers) in 4 stages of
# GPUS/4 GPUs each, 1F1B, `sharding: full` on every stage (each replica
# issues its own per-layer all-gathers and reduce-scatters, so every step
# runs GPUS/4 collectives over the same ranks at once: the regime flow
# classes sharing their links cover), a batch of 8 samples per GPU in
# micro-batches of 8, on DGX-H100 nodes (configs/clusters/dgx-h100.yaml,
# GPUS/8 nodes).
# For each size it prints the wall and CPU seconds of `gppsim simulate`
# and the iteration time in full, so that two builds can be compared to
# the last bit.
#
#   bench/bench_fsdp.sh GPPSIM [GPUS,GPUS,...]   (default 64,128,512)
#
# GPUS: multiples of 32, 32 to 4096.  Exit status: 0 measured, 1 a run
# failed, 2 bad arguments.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

BENCH_NAME=bench_fsdp.sh
BENCH_USAGE="bench_fsdp.sh GPPSIM [GPUS,GPUS,...]"
BENCH_HELP=17
. "$here/bench_lib.sh"

case "${1:-}" in -h | --help) usage 0 ;; esac
[ $# -ge 1 ] && [ $# -le 2 ] || { usage 2 >&2; }
gppsim=$1
[ -x "$gppsim" ] || die 2 "GPPSIM '$gppsim' is not an executable"
sizes=${2:-64,128,512}
IFS=, read -r -a list <<<"$sizes"
for g in "${list[@]}"; do
  case "$g" in
    '' | *[!0-9]*) ok=0 ;;
    *) ok=$((g >= 32 && g <= 4096 && g % 32 == 0)) ;;
  esac
  [ "$ok" -eq 1 ] ||
    die 2 "GPUS takes multiples of 32 from 32 to 4096 separated by commas, got '$sizes'"
done

work=$(mktemp -d) || die 1 "cannot make a temporary folder"
trap 'rm -rf "$work"' EXIT

# plan G FILE: the 4-stage FSDP plan on G GPUs.
plan() {
  local g=$1 per=$(($1 / 4)) i
  {
    echo "model: $root/configs/models/gpt.yaml"
    echo "batch: $((8 * g))"
    echo "micro_batch: 8"
    echo "schedule: 1f1b"
    echo "optimizer: adam"
    echo "precision: mixed"
    echo "stages:"
    for i in 0 1 2 3; do
      local ops="" l
      [ "$i" -eq 0 ] && ops='"tokens", "wte", "wpe", "embed", '
      for l in $(seq $((6 * i)) $((6 * i + 5))); do ops="$ops\"h.l$l.*\", "; done
      [ "$i" -eq 3 ] && ops="$ops\"ln_f\", \"lm_head\", \"loss\", "
      echo "  - {name: s$i, ops: [${ops%, }], devices: [$(seq -s ', ' $((per * i)) $((per * i + per - 1)))], sharding: full}"
    done
  } >"$2"
}

printf '%6s %8s %8s %12s %22s\n' GPUs "wall s" "cpu s" events "iteration s"
for g in "${list[@]}"; do
  plan "$g" "$work/plan.yaml"
  sed "s/^nodes: .*/nodes: $((g / 8))/" "$root/configs/clusters/dgx-h100.yaml" \
    >"$work/cluster.yaml"
  timed "sim$g" "$gppsim" simulate --plan "$work/plan.yaml" \
    --cluster "$work/cluster.yaml" --json --quiet --allow-oom
  /usr/bin/python3 - "$work/sim$g.out" "$g" "$WALL" "$CPU" <<'PY' ||
import json, sys
d = json.load(open(sys.argv[1]))
g, wall, cpu = sys.argv[2:5]
print("%6s %8.2f %8.2f %12d %22r" % (g, float(wall), float(cpu),
                                     d["events"], d["iteration_time"]))
PY
    die 1 "$g GPUs: cannot read the summary"
done
