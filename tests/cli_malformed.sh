#!/usr/bin/env bash
# cli_malformed.sh -- every malformed model input makes `gppsim model show`
# exit 2 with a `file:line:column` message, and never crash.
#   usage: cli_malformed.sh [GPPSIM]
set -u
gppsim=${1:-${GPPSIM:-build/gppsim}}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0
fail=0

# expect NAME FILE [extra args...]: exit 2, a file:line:col message, no crash.
expect() {
  local name=$1 file=$2
  shift 2
  local err rc
  err=$("$gppsim" model show "$file" "$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -eq 2 ] && printf '%s' "$err" | grep -Eq ':[0-9]+:[0-9]+: '; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $rc: $err"
  fi
}

# case NAME TEXT [extra args...]: TEXT written to NAME.yaml.
case_() {
  local name=$1 text=$2
  shift 2
  printf '%b' "$text" >"$dir/$name.yaml"
  expect "$name" "$dir/$name.yaml" "$@"
}

in='  - {type: input, name: x, width: 4}\n'
case_ bad_yaml 'name: t\ngraph: [\n'
case_ bad_indent 'name: t\ngraph:\n  - {type: input, width: 4}\n bad: 1\n'
case_ tab_indent 'name: t\ngraph:\n\t- {type: input, width: 4}\n'
case_ two_documents "name: t\ngraph:\n$in---\nname: u\n"
case_ unknown_top_key 'name: t\ngrpah: []\n'
case_ unknown_item_key "name: t\ngraph:\n  - {type: input, width: 4, wdith: 3}\n"
case_ unknown_type 'name: t\ngraph:\n  - {type: conv2d, width: 4}\n'
case_ wrong_unit 'name: t\ngraph:\n  - {type: input, width: 4 GB/s}\n'
case_ negative_size 'name: t\ngraph:\n  - {type: input, width: -4}\n'
case_ zero_layers "name: t\ngraph:\n$in  - {type: mlp, layers: 0, width: 3}\n"
case_ fractional_count "name: t\ngraph:\n$in  - {type: mlp, layers: 2.5, width: 3}\n"
case_ huge_dimension 'name: t\ngraph:\n  - {type: input, width: 1e13}\n'
case_ cycle "name: t\ngraph:\n$in  - {type: relu, name: a, input: b}\n  - {type: relu, name: b, input: a}\n"
case_ self_loop "name: t\ngraph:\n$in  - {type: relu, name: a, input: a}\n"
case_ missing_op "name: t\ngraph:\n$in  - {type: relu, name: a, input: y}\n"
case_ duplicate_name "name: t\ngraph:\n$in  - {type: relu, name: x}\n"
case_ input_twice "name: t\ngraph:\n$in  - {type: elementwise, inputs: [x, x]}\n"
case_ input_and_inputs "name: t\ngraph:\n$in  - {type: relu, input: x, inputs: [x]}\n"
case_ missing_out "name: t\ngraph:\n$in  - {type: linear}\n"
case_ heads_not_dividing "name: t\ngraph:\n$in  - {type: attention, heads: 3}\n"
case_ unequal_interaction "name: t\ngraph:\n$in  - {type: linear, name: l, out: 5}\n  - {type: interaction, inputs: [x, l]}\n"
case_ missing_bwd_time "name: t\ngraph:\n$in  - {type: relu, time_per_sample: {fwd: 1 ms}}\n"
case_ unknown_param "name: t\ngraph:\n$in  - type: mlp\n    layers: \${depth}\n    width: 3\n"
case_ param_out_of_range "name: t\nparams: {n: {default: 4, min: 2, max: 16}}\ngraph:\n$in" --set n=99
case_ unknown_set_param "name: t\nparams: {n: 4}\ngraph:\n$in" --set m=3
case_ bad_precision "name: t\nprecision: fp64\ngraph:\n$in"
case_ root_is_list '- a\n- b\n'
case_ root_is_scalar 'just a string\n'
case_ name_is_mapping "name: {a: 1}\ngraph:\n$in"
case_ graph_is_mapping 'name: t\ngraph: {a: 1}\n'
case_ item_not_mapping 'name: t\ngraph: [1, 2]\n'
case_ empty_graph 'name: t\ngraph: []\n'
case_ empty_body "name: t\ngraph:\n$in  - {type: branches, count: 2, body: []}\n"
case_ bad_description "name: t\ndescription: [1]\ngraph:\n$in"
case_ invalid_utf8 'name: t\xff\xfe\ngraph: []\n'
case_ alias_bomb "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\nname: t\ngraph:\n$in"

: >"$dir/empty.yaml"
expect empty_file "$dir/empty.yaml"
awk 'BEGIN { srand(7); for (i = 0; i < 4096; i++) printf "%c", int(rand() * 255) + 1 }' \
  >"$dir/garbage.yaml"
expect binary_garbage "$dir/garbage.yaml"
truncate -s 100M "$dir/big.yaml"
expect file_100mb "$dir/big.yaml"
expect missing_file "$dir/does-not-exist.yaml"
expect directory "$dir"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -ge 25 ]
