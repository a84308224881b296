#!/bin/sh
# cli_net.sh -- whole-program checks of `gppsim net`: the example scenarios
# run (text and JSON), and each kind of bad scenario exits 2 with a
# file:line:column message.  Usage: cli_net.sh GPPSIM SOURCE_DIR
set -u
GPPSIM=$1
SRC=$2
export GPP_SOURCE_DIR="$SRC"
. "$(dirname "$0")/lib.sh"

for f in "$SRC"/configs/experiments/net/*.yaml; do
  "$GPPSIM" net "$f" > "$TMP/out.txt" 2>&1 || fail "$f exited $?"
  grep -q "link class" "$TMP/out.txt" || fail "$f: no link class table"
  "$GPPSIM" net "$f" --json > "$TMP/out.json" 2>&1 || fail "$f --json"
  grep -q '"link_classes"' "$TMP/out.json" || fail "$f: JSON lacks link_classes"
done

"$GPPSIM" net --help | grep -q "usage: gppsim net" || fail "--help"
"$GPPSIM" net > /dev/null 2>&1
[ $? -eq 2 ] || fail "no scenario should exit 2"

# bad NAME KEYWORD YAML: exit status 2 and "file:line:col: ...KEYWORD".
bad() {
  printf '%s\n' "$3" > "$TMP/$1.yaml"
  "$GPPSIM" net "$TMP/$1.yaml" > /dev/null 2> "$TMP/$1.err"
  rc=$?
  [ $rc -eq 2 ] || fail "$1: exit $rc, expected 2"
  grep -Eq "$1\.yaml:[0-9]+:[0-9]+: .*$2" "$TMP/$1.err" ||
    fail "$1: no file:line:col message with '$2': $(cat "$TMP/$1.err")"
}

TPL='{gpu: h200, gpus_per_node: 4, intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 2 us}}'
bad unknown_gpu "unknown GPU" "cluster: {gpu: h300, gpus_per_node: 2, intra_node: {kind: pcie, bandwidth: 26 GB/s, latency: 5 us}}"
bad zero_bw "bandwidth" "cluster: {gpu: h200, gpus_per_node: 2, intra_node: {kind: pcie, bandwidth: 0 GB/s, latency: 5 us}}"
bad disconnected "disconnected" "cluster:
  gpu: h200
  links:
    - {a: gpu0, b: gpu1, bandwidth: 1 GB/s, latency: 1 us}
    - {a: gpu2, b: gpu3, bandwidth: 1 GB/s, latency: 1 us}"
bad unknown_vertex "unknown vertex" "cluster:
  gpu: h200
  switches: [leaf]
  links:
    - {a: gpu0, b: lef, bandwidth: 1 GB/s, latency: 1 us}"
bad self_flow "itself" "cluster: $TPL
flows: [{name: x, src: 2, dst: 2, bytes: 1 MB}]"
bad negative "out of range" "cluster: $TPL
flows: [{name: x, src: 0, dst: 1, bytes: -5 MB}]"
bad unknown_key "did you mean 'flows'" "cluster: $TPL
flow: []"
bad far_gpu "out of range" "cluster: $TPL
flows: [{name: x, src: 0, dst: 4, bytes: 1 MB}]"
bad bad_algo "valid: auto, ring" "cluster: $TPL
collectives: [{name: y, op: allgather, algorithm: tree, ranks: 0-3, bytes: 1 MB}]"
bad bad_range "range" "cluster: $TPL
collectives: [{name: y, op: allreduce, ranks: 3-1, bytes: 1 MB}]"
bad no_cluster "no such file" "cluster: nowhere.yaml"

finish cli_net
