#!/usr/bin/env bash
# One run, both engines, same machine: our `small` train step and forward (bench/rayzer.bench.ts, 2 threads; the
# forward on jax-js and on ONNX Runtime) and the PyTorch peer (bench/peers/rayzer_small.py, 2 threads, OpenBLAS),
# then the ratios; after the rounds, once, the paper-size forward (batch 1, 6 targets, ~2 TFLOP) on ONNX Runtime
# and on PyTorch. Each line gives the wall-clock median per call and, in brackets, the median CPU time per call of
# the whole process (all threads): on a shared machine the wall times stretch with the load, the CPU times much less.
# Run on a quiet machine.
#   bash bench/peers/compare.sh [rounds=2]
# PAPER=0 leaves the paper-size forward out (it takes a few minutes). Set PEER_BLAS to a folder holding
# libblas.so.3 (e.g. an extracted libopenblas0-openmp) to choose the BLAS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-2}"
PY=/usr/bin/python3
ENVPEER=(OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE)
[ -n "${PEER_BLAS:-}" ] && ENVPEER+=(LD_LIBRARY_PATH="$PEER_BLAS")
# field NAME... : the named numbers of a JSON object on stdin, one decimal each, space-separated
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);console.log(process.argv.slice(1).map(k=>o[k].toFixed(1)).join(" "))})' "$@"; }
ours() { WRZ_THREADS=2 node --import tsx --import ./src/engine/workerAdapter.ts bench/rayzer.bench.ts "${@:2}" --case "$1" | grep '^BENCH_ROW' | sed 's/^BENCH_ROW //' | field ms cpuMs; }
ratio() { node -e "console.log(($1/$2).toFixed(2))"; }
for r in $(seq "$ROUNDS"); do
  read -r t tc < <(ours "small train step jit b8 v6 32² d128 t2")
  read -r f fc < <(ours "small forward jit b8 v6 32² d128 t4")
  read -r o oc < <(ours "small forward onnx b8 v6 32² d128 t4")
  read -r pt ptc pf pfc < <(env "${ENVPEER[@]}" "$PY" bench/peers/rayzer_small.py --json --batch 8 --threads 2 --mode both | field train_ms_median train_cpu_ms_median forward_ms_median forward_cpu_ms_median)
  echo "round $r: train step ours ${t} ms [cpu ${tc}], pytorch ${pt} ms [cpu ${ptc}], ratio $(ratio "$t" "$pt")x [cpu $(ratio "$tc" "$ptc")x]"
  echo "round $r: forward ours jax-js ${f} ms [cpu ${fc}] ($(ratio "$f" "$pf")x [cpu $(ratio "$fc" "$pfc")x]), ours onnx ${o} ms [cpu ${oc}] ($(ratio "$o" "$pf")x [cpu $(ratio "$oc" "$pfc")x]), pytorch ${pf} ms [cpu ${pfc}]"
done
if [ "${PAPER:-1}" != "0" ]; then
  read -r po poc < <(ours "paper forward onnx b1 v8 256² d768 t6" --quick)
  read -r pp ppc < <(env "${ENVPEER[@]}" "$PY" bench/peers/rayzer_small.py --json --preset paper --batch 1 --threads 2 --mode forward --warmup 1 --steps 2 | field forward_ms_median forward_cpu_ms_median)
  echo "paper forward b1 t6: ours onnx ${po} ms [cpu ${poc}], pytorch ${pp} ms [cpu ${ppc}], ratio $(ratio "$po" "$pp")x [cpu $(ratio "$poc" "$ppc")x] (jax-js wasm: does not fit the 4 GiB heap)"
fi
