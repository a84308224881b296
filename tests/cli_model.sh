#!/usr/bin/env bash
# cli_model.sh -- `gppsim model show` on every bundled model, its JSON, and
# the top-level --help / --version / unknown-command behaviour.
#   usage: cli_model.sh [GPPSIM]   (run from anywhere)
set -u
gppsim=${1:-${GPPSIM:-build/gppsim}}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=/usr/bin/python3
pass=0
fail=0
check() { # check NAME COMMAND...: the command must succeed
  local name=$1
  shift
  if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $name"; fi
}

for f in "$root"/configs/models/*.yaml; do
  check "show $(basename "$f")" "$gppsim" model show "$f"
  check "json $(basename "$f")" bash -c "'$gppsim' model show '$f' --json --ops | $py -c 'import json,sys; d=json.load(sys.stdin); assert d[\"ops\"] == len(d[\"op_table\"]) > 0'"
done
# MMT parameters against App. A.2 by hand: 32 layers x (attention 4h^2+4h,
# FFN 2hf+f+h, layernorms 4h), h = 1024, f = 4096.
check mmt_params bash -c "'$gppsim' model show '$root/configs/models/mmt.yaml' --json | $py -c '
import json, sys
h, f = 1024, 4096
hand = 32 * ((4*h*h + 4*h) + (2*h*f + f + h) + 4*h)
d = json.load(sys.stdin)
assert abs(d[\"param_count\"] - hand) <= 0.02 * hand, (d[\"param_count\"], hand)'"
check set_branches bash -c "'$gppsim' model show '$root/configs/models/mmt.yaml' --set branches=8 --json | $py -c 'import json,sys; assert json.load(sys.stdin)[\"branch_groups\"][0][\"count\"] == 8'"
check help "$gppsim" --help
check model_help "$gppsim" model show --help
check version bash -c "'$gppsim' --version | grep -q '^gppsim [0-9]'"
check unknown_command bash -c "'$gppsim' modle show x; [ \$? -eq 2 ]"
check no_args bash -c "'$gppsim'; [ \$? -eq 2 ]"
check bad_option bash -c "'$gppsim' model show --frobnicate x; [ \$? -eq 2 ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
