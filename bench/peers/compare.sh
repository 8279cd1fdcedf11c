#!/usr/bin/env bash
# One run, both engines, same machine: our `small` train step and forward (bench/rayzer.bench.ts, 2 threads) and
# the PyTorch peer (bench/peers/rayzer_small.py, 2 threads, OpenBLAS), then the ratios. Run on a quiet machine.
#   bash bench/peers/compare.sh [rounds=2]
# Set PEER_BLAS to a folder holding libblas.so.3 (e.g. an extracted libopenblas0-openmp) to choose the BLAS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-2}"
PY=/usr/bin/python3
ENVPEER=(OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE)
[ -n "${PEER_BLAS:-}" ] && ENVPEER+=(LD_LIBRARY_PATH="$PEER_BLAS")
ours() { WRZ_THREADS=2 node --import tsx --import ./src/engine/workerAdapter.ts bench/rayzer.bench.ts --case "$1" | grep '^BENCH_ROW' | sed 's/^BENCH_ROW //'; }
for r in $(seq "$ROUNDS"); do
  t=$(ours "small train step jit b8 v6 32² d128 t2" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).ms.toFixed(1)))')
  f=$(ours "small forward jit b8 v6 32² d128 t4" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).ms.toFixed(1)))')
  p=$(env "${ENVPEER[@]}" "$PY" bench/peers/rayzer_small.py --json --batch 8 --threads 2 --mode both)
  pt=$(echo "$p" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).train_ms_median.toFixed(1)))')
  pf=$(echo "$p" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).forward_ms_median.toFixed(1)))')
  echo "round $r: train step ours ${t} ms, pytorch ${pt} ms, ratio $(node -e "console.log(($t/$pt).toFixed(2))")x; forward ours ${f} ms, pytorch ${pf} ms, ratio $(node -e "console.log(($f/$pf).toFixed(2))")x"
done
