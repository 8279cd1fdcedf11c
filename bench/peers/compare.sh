#!/usr/bin/env bash
# One run, both engines, same machine: our `small` train step and forward (bench/rayzer.bench.ts, 2 threads; the
# forward on jax-js and on ONNX Runtime) and the PyTorch peer (bench/peers/rayzer_small.py, 2 threads, OpenBLAS),
# then the ratios; after the rounds, once, the paper-size forward (batch 1, 6 targets, ~2 TFLOP) on ONNX Runtime
# and on PyTorch. Run on a quiet machine.
#   bash bench/peers/compare.sh [rounds=2]
# PAPER=0 leaves the paper-size forward out (it takes a few minutes). Set PEER_BLAS to a folder holding
# libblas.so.3 (e.g. an extracted libopenblas0-openmp) to choose the BLAS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-2}"
PY=/usr/bin/python3
ENVPEER=(OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE)
[ -n "${PEER_BLAS:-}" ] && ENVPEER+=(LD_LIBRARY_PATH="$PEER_BLAS")
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]].toFixed(1)))' "$1"; }
ours() { WRZ_THREADS=2 node --import tsx --import ./src/engine/workerAdapter.ts bench/rayzer.bench.ts "${@:2}" --case "$1" | grep '^BENCH_ROW' | sed 's/^BENCH_ROW //' | field ms; }
ratio() { node -e "console.log(($1/$2).toFixed(2))"; }
for r in $(seq "$ROUNDS"); do
  t=$(ours "small train step jit b8 v6 32² d128 t2")
  f=$(ours "small forward jit b8 v6 32² d128 t4")
  o=$(ours "small forward onnx b8 v6 32² d128 t4")
  p=$(env "${ENVPEER[@]}" "$PY" bench/peers/rayzer_small.py --json --batch 8 --threads 2 --mode both)
  pt=$(echo "$p" | field train_ms_median)
  pf=$(echo "$p" | field forward_ms_median)
  echo "round $r: train step ours ${t} ms, pytorch ${pt} ms, ratio $(ratio "$t" "$pt")x; forward ours jax-js ${f} ms ($(ratio "$f" "$pf")x), ours onnx ${o} ms ($(ratio "$o" "$pf")x), pytorch ${pf} ms"
done
if [ "${PAPER:-1}" != "0" ]; then
  po=$(ours "paper forward onnx b1 v8 256² d768 t6" --quick)
  pp=$(env "${ENVPEER[@]}" "$PY" bench/peers/rayzer_small.py --json --preset paper --batch 1 --threads 2 --mode forward --warmup 1 --steps 2 | field forward_ms_median)
  echo "paper forward b1 t6: ours onnx ${po} ms, pytorch ${pp} ms, ratio $(ratio "$po" "$pp")x (jax-js wasm: does not fit the 4 GiB heap)"
fi
