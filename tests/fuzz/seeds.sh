#!/bin/sh
# seeds.sh SRC OUT GPPSIM SYNTH_PROFILE -- the seed corpora of the fuzz
# targets, OUT/<target>/, from the bundled configs: every model, cluster,
# hardware, plan, sweep and network file as is; the first rows of the
# published-runs and kernel tables (a published row is simulated, so few and
# small ones); a profile from synth_profile and a results file from
# `gppsim simulate --out`.  Rebuilt from scratch each time.
set -eu
src=$1 out=$2 gppsim=$3 synth=$4
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cd "$out.tmp"
for t in model cluster hardware plan sweep net published kernels profile results; do
  mkdir "$t"
done
cp "$src"/configs/models/*.yaml model/
cp "$src"/configs/clusters/*.yaml cluster/
cp "$src"/configs/hardware/*.yaml hardware/
cp "$src"/configs/experiments/plans/*.yaml "$src"/configs/experiments/validation/*.yaml plan/
cp "$src"/configs/experiments/sweeps/*.yaml "$src"/configs/experiments/paper/*.yaml sweep/
cp "$src"/configs/experiments/net/*.yaml net/
# Published: the table's header with small rows in its format (every row
# that parses is simulated; a real MPT row takes over 10 s under the
# sanitizers, libFuzzer's timeout).
pub=$src/validate/published/mpt-a100.csv
hdr=$(grep -v '^#' "$pub" | head -1)
{ echo "$hdr"
  echo "tiny-a,gpt,256,2,4,4,1024,128,8,a100-sxm-80gb,a100-roce-1600,1,1,8,bf16-pure,full_shard,full,flash,1000,learned,2"
  echo "tiny-b,gpt,128,1,2,4,512,64,8,a100-sxm-40gb,a100-roce-1600,2,1,16,bf16-mixed,full_shard,none,flash,2000,alibi,0"
} > published/tiny.csv
for k in "$src"/validate/published/kernels/*.csv; do
  head -12 "$k" > "kernels/$(basename "$k")"
done
"$synth" "$src/configs/models/synthetic.yaml" h100-sxm-80gb profile/synthetic.h5 >/dev/null
(cd "$src" && "$gppsim" simulate --plan configs/experiments/validation/synthetic-1f1b-4.yaml \
  --cluster configs/clusters/dgx-a100.yaml --out "$out.tmp/results/synthetic-1f1b-4.h5" >/dev/null)
rm -rf "$out"
mv "$out.tmp" "$out"
