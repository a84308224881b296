#!/usr/bin/env bash
# cli_malformed.sh -- `gppsim model show` on malformed inputs: every case
# must exit 2 (bad input), name `file:line:column` in its message, say what
# was expected, and never crash (an exit status >= 128 is a signal).
# Usage: cli_malformed.sh [GPPSIM]   (default: $GPPSIM)
set -u
GPPSIM=${1:-${GPPSIM:?usage: cli_malformed.sh PATH_TO_GPPSIM}}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

# check NAME FILE EXPECT [ARGS...]: exit 2, a position, and EXPECT in stderr.
check() {
  local name=$1 file=$2 expect=$3
  shift 3
  "$GPPSIM" model show "$file" "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  local msg
  msg=$(head -c 600 "$T/err")
  if [ "$rc" -ge 128 ]; then
    echo "FAIL $name: crashed (exit $rc): $msg"
    fail=$((fail + 1))
  elif [ "$rc" -ne 2 ]; then
    echo "FAIL $name: exit $rc, expected 2: $msg"
    fail=$((fail + 1))
  elif ! grep -Eq ':[0-9]+:[0-9]+: ' "$T/err"; then
    echo "FAIL $name: no file:line:column in: $msg"
    fail=$((fail + 1))
  elif ! grep -Fq -- "$expect" "$T/err"; then
    echo "FAIL $name: message lacks '$expect': $msg"
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
}

# case NAME EXPECT TEXT [ARGS...]: writes TEXT to a file and checks it.
case_text() {
  local name=$1 expect=$2 text=$3
  shift 3
  printf '%s' "$text" >"$T/$name.yaml"
  check "$name" "$T/$name.yaml" "$expect" "$@"
}

OK_HEAD='name: t
graph:
  - {input: x, tokens: 4, width: 16}
'

case_text yaml_syntax "YAML syntax error" 'name: [unclosed
graph: []
'
case_text yaml_indent "YAML syntax error" 'name: t
graph:
  - {input: x, width: 4}
 - {linear: a, out: 2}
'
case_text unknown_top_key "did you mean 'precision'" 'name: t
precison: fp16
graph: []
'
case_text unknown_item_key "did you mean 'width'" 'name: t
graph:
  - {input: x, widht: 4}
'
case_text unknown_item_kind "did you mean 'transformer'" "$OK_HEAD"'  - {transfomer: enc, layers: 2, heads: 4, ffn: 8}
'
case_text unknown_op_kind "did you mean 'matmul'" "$OK_HEAD"'  - {op: fc, kind: matmull, shape: {width: 4}}
'
case_text wrong_unit "unknown unit" 'name: t
graph:
  - {input: x, width: 4 GB/s}
'
case_text wrong_time_unit "time" "$OK_HEAD"'  - op: c
    kind: custom
    time_per_sample: {fwd: 3 parsecs, bwd: 1 ms}
'
case_text negative_size "out of range" 'name: t
graph:
  - {input: x, width: -4}
'
case_text huge_size "out of range" 'name: t
graph:
  - {input: x, width: 1e30}
'
case_text fractional_size "whole number" 'name: t
graph:
  - {input: x, width: 2.5}
'
case_text cycle "cycle: " "$OK_HEAD"'  - {op: a, kind: relu, inputs: c}
  - {op: b, kind: relu, inputs: a}
  - {op: c, kind: relu, inputs: b}
'
case_text dangling_input "did you mean 'x'" "$OK_HEAD"'  - {linear: a, inputs: xx, out: 3}
'
case_text missing_input "names no op" "$OK_HEAD"'  - {op: a, kind: elementwise, inputs: [x, nowhere]}
'
case_text duplicate_name "first defined at line 3" "$OK_HEAD"'  - {linear: x, out: 2}
'
case_text duplicate_key "duplicate key" "$OK_HEAD"'  - {linear: a, out: 2, out: 3}
'
printf '' >"$T/empty.yaml"
check empty_file "$T/empty.yaml" "expected"
# 4 KiB of deterministic pseudo-random bytes (an LCG in awk, no openssl).
LC_ALL=C awk 'BEGIN { s = 12345; for (i = 0; i < 4096; i++) {
  s = (s * 1103515245 + 12345) % 2147483648; printf "%c", int(s / 65536) % 256 } }' \
  >"$T/garbage.yaml"
check binary_garbage "$T/garbage.yaml" ""
truncate -s 100M "$T/huge.yaml"
check file_100mb "$T/huge.yaml" "limited to 16 MiB"
check missing_file "$T/does-not-exist.yaml" "cannot open"
mkdir "$T/adir"
check directory "$T/adir" "not a regular file"
case_text root_list "expected a mapping" '- a
- b
'
case_text root_scalar "expected a mapping" 'just a string
'
case_text graph_not_list "graph: expected a list" 'name: t
graph: {input: x}
'
case_text missing_graph "missing required key 'graph'" 'name: t
'
case_text layers_wrong_type "layers" "$OK_HEAD"'  - {mlp: m, layers: many, width: 4}
'
case_text layers_zero "out of range" "$OK_HEAD"'  - {transformer: t, layers: 0, heads: 4, ffn: 8}
'
case_text layers_negative "out of range" "$OK_HEAD"'  - {mlp: m, layers: -3, width: 4}
'
case_text heads_not_dividing "expected a divisor of hidden" "$OK_HEAD"'  - {transformer: t, layers: 1, seq: 4, hidden: 16, heads: 5, ffn: 8}
'
case_text heads_not_dividing_input "to divide the input's width" "$OK_HEAD"'  - {op: a, kind: attention, shape: {heads: 3}}
'
case_text hidden_mismatch "expected an input of 4 x 32" "$OK_HEAD"'  - {transformer: t, layers: 1, seq: 4, hidden: 32, heads: 4, ffn: 8}
'
case_text unknown_param "unknown parameter" "$OK_HEAD"'  - mlp: m
    layers: ${nlayers}
    width: 4
'
case_text param_default_out_of_range "out of range" 'name: t
params:
  branches: {default: 40, min: 2, max: 16}
graph: []
'
case_text param_use_out_of_range "out of range" 'name: t
params:
  n: {default: 0, min: 0, max: 8}
graph:
  - {input: x, width: 4}
  - mlp: m
    layers: ${n}
    width: 4
'
case_text bad_precision "unknown value 'int4'" 'name: t
precision: int4
graph: []
'
case_text two_kind_keys "two kind keys" "$OK_HEAD"'  - {linear: a, mlp: b, out: 3}
'
case_text no_kind_key "expected one kind key" "$OK_HEAD"'  - {out: 3}
'
case_text empty_body "non-empty body" "$OK_HEAD"'  - branches: b
    count: 2
    body: []
'
case_text interaction_one_input "expected at least 2 inputs" "$OK_HEAD"'  - {interaction: i, inputs: [x]}
'
case_text embedding_no_rows "missing required key 'rows'" "$OK_HEAD"'  - {embedding_bag: e, dim: 4}
'
case_text too_many_ops "more than 262144 ops" "$OK_HEAD"'  - branches: a
    count: 4096
    body:
      - branches: b
        count: 4096
        body:
          - {linear: l, out: 2}
'
case_text self_loop "cycle: a <- a" "$OK_HEAD"'  - {op: a, kind: relu, inputs: a}
'
case_text name_with_glob "expected letters" "$OK_HEAD"'  - {linear: "a*b", out: 3}
'
printf 'name: t\ngraph:\n  - {input: x, width: 4}\n  - {linear: \xff\xfe, out: 3}\n' \
  >"$T/bad_utf8.yaml"
check invalid_utf8 "$T/bad_utf8.yaml" ""
printf '%s' "$OK_HEAD" >"$T/ok.yaml"
cat >"$T/branchy.yaml" <<'EOF'
name: b
params:
  branches: {default: 4, min: 2, max: 16}
graph:
  - branches: br
    count: ${branches}
    body:
      - {input: x, width: 4}
EOF
check set_out_of_range "$T/branchy.yaml" "expected 2 to 16" --set branches=99
check set_unknown_name "$T/branchy.yaml" "did you mean 'branches'" \
  --set brnches=3

# A malformed --set is an argument error, found before any file is read:
# exit 2 and a message naming --set (no file position to give).
"$GPPSIM" model show "$T/branchy.yaml" --set branches=lots >/dev/null \
  2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- "--set" "$T/err"; then
  pass=$((pass + 1))
else
  echo "FAIL set_not_integer: exit $rc: $(head -c 300 "$T/err")"
  fail=$((fail + 1))
fi

echo "cli_malformed: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
