#!/usr/bin/env bash
# WebGPU (Dawn/Vulkan) and wasm benchmark probe for a bare Linux x86-64 GPU machine without Node or node_modules.
# Run from the repo root:  bash bench/device/probe.sh
# Needs beside it: node.xz (Node 20 binary), nm.tar.xz (node_modules closure + webgpu linux-x64), gl/*.deb (Vulkan
# loader and GL dispatch libraries), gpucheck.ts. Every step goes on after a failure; each run is under `timeout`,
# and the whole script stops starting work after PROBE_BUDGET_S seconds (default 420).
# Env: OUT (log folder, default /tmp/out), PROBE_THREADS (wasm threads, default 16), PROBE_DEBROOT (where the debs
# are unpacked, default /; anything else skips ldconfig and uses LD_LIBRARY_PATH), PROBE_BENCH_ARGS (default --quick).
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
THREADS=${PROBE_THREADS:-16}
DEBROOT=${PROBE_DEBROOT:-/}
BENCH_ARGS=${PROBE_BENCH_ARGS:---quick}
DEADLINE=$(($(date +%s) + ${PROBE_BUDGET_S:-420}))
DP=.devprobe
NODE=/tmp/node
NODE_ARGS=(--import tsx --import ./src/engine/workerAdapter.ts)
SUMMARY=()

# Seconds a step may take: its own limit, capped by what is left of the budget (0: skip it).
budget() {
  local left=$((DEADLINE - $(date +%s)))
  if [ "$left" -lt 15 ]; then echo 0; elif [ "$1" -lt "$left" ]; then echo "$1"; else echo "$left"; fi
}

# step NAME LIMIT_S CMD...: runs CMD under timeout, output to the log and $OUT/step.txt; one summary line after.
step() {
  local name=$1 limit
  limit=$(budget "$2")
  shift 2
  if [ "$limit" -eq 0 ]; then
    echo "== $name: SKIPPED (time budget spent)"
    SUMMARY+=("$name: skipped (budget)")
    return 99
  fi
  echo "== $name: start (limit ${limit}s): $*"
  local t0 rc line
  t0=$(date +%s)
  timeout -k 5 "$limit" "$@" 2>&1 | tee "$OUT/step.txt"
  rc=${PIPESTATUS[0]}
  grep '^BENCH_ROW ' "$OUT/step.txt" | sed "s/^BENCH_ROW /$name /" >>"$OUT/rows.txt"
  if [ "$rc" -eq 0 ]; then
    line="ok"
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    line="TIMED OUT after ${limit}s (rc $rc)"
  else
    # The first "XxxError: message" line (the thrown error), else the first line that looks like an error.
    line=$(grep -m1 -E '^[A-Za-z]*Error: |FAILED' "$OUT/step.txt" || grep -m1 -iE 'error|abort|segmentation' "$OUT/step.txt")
    line="FAILED rc $rc: $(echo "$line" | cut -c1-300)"
  fi
  echo "== $name: $line ($(($(date +%s) - t0))s)"
  SUMMARY+=("$name: $line ($(($(date +%s) - t0))s)")
  return "$rc"
}

# Decompresses an .xz file to stdout (python3's lzma where xz is missing).
unxz_to_stdout() {
  if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}

main() {
  set -x
  date -u; uname -a; nproc; free -g; df -h . /tmp | cat; head -2 /etc/os-release
  : ---- Vulkan loader and GL libraries
  mkdir -p "$DEBROOT"
  for f in $DP/gl/*.deb; do dpkg -x "$f" "$DEBROOT"; done
  if [ "$DEBROOT" = / ]; then
    ldconfig
  else
    export LD_LIBRARY_PATH="$DEBROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  ldconfig -p | grep -E 'libvulkan|libEGL|libGLX|nvidia' | head -30
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -f "$icd" ]; then
    echo "ICD $icd exists"; cat "$icd"
    export VK_DRIVER_FILES=$icd
  else
    echo "ICD $icd does NOT exist"
  fi
  ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d 2>&1
  : ---- Node and node_modules
  unxz_to_stdout $DP/node.xz >$NODE && chmod +x $NODE
  mkdir -p /tmp/nodebin && ln -sf $NODE /tmp/nodebin/node && export PATH=/tmp/nodebin:$PATH
  unxz_to_stdout $DP/nm.tar.xz | tar -x -C .
  ls node_modules node_modules/@*
  nvidia-smi -L
  $NODE -v
  set +x

  : >"$OUT/rows.txt"
  : ---- WebGPU
  local gpu=run rc
  step gpucheck-webgpu 90 env WRZ_THREADS="$THREADS" $NODE "${NODE_ARGS[@]}" bench/device/gpucheck.ts
  rc=$?
  if [ "$rc" -ne 0 ]; then
    # Retry once naming Vulkan explicitly, with the loader's diagnostics; if that works, the benches use it.
    step gpucheck-webgpu-vulkan 45 env WRZ_THREADS="$THREADS" WRZ_WEBGPU_FLAGS=backend=vulkan VK_LOADER_DEBUG=error,warn $NODE "${NODE_ARGS[@]}" bench/device/gpucheck.ts
    local rc2=$?
    if [ "$rc2" -eq 0 ]; then
      export WRZ_WEBGPU_FLAGS=backend=vulkan
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      gpu=hung # WebGPU hangs here: keep the budget for wasm
    fi
  fi
  if [ "$gpu" = run ]; then
    step bench-rayzer-webgpu 240 env WRZ_BENCH_DEVICE=webgpu WRZ_THREADS="$THREADS" $NODE "${NODE_ARGS[@]}" bench/rayzer.bench.ts $BENCH_ARGS
  else
    echo "== bench-rayzer-webgpu: SKIPPED (gpucheck timed out)"; SUMMARY+=("bench-rayzer-webgpu: skipped (gpucheck timed out)")
  fi
  : ---- wasm
  step bench-rayzer-wasm 150 env WRZ_BENCH_DEVICE=wasm WRZ_THREADS="$THREADS" $NODE "${NODE_ARGS[@]}" bench/rayzer.bench.ts $BENCH_ARGS
  : ---- extras, with what is left of the budget
  [ "$gpu" = run ] && step bench-matmul-webgpu 45 env WRZ_BENCH_DEVICE=webgpu WRZ_THREADS="$THREADS" $NODE "${NODE_ARGS[@]}" bench/matmul.bench.ts --quick
  step bench-matmul-wasm 60 env WRZ_BENCH_DEVICE=wasm WRZ_THREADS="$THREADS" $NODE "${NODE_ARGS[@]}" bench/matmul.bench.ts --quick

  echo "==== rows (step, then the BENCH_ROW json)"
  cat "$OUT/rows.txt"
  echo "==== compact: step | name | shape | device | threads | ms | GFLOP/s | peak RSS MB"
  $NODE -e '
    for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)) {
      const i = l.indexOf(" "); const r = JSON.parse(l.slice(i + 1));
      console.log([l.slice(0, i), r.name, r.shape, r.device, r.threads, r.ms.toFixed(1), r.gflops.toFixed(1), Math.round(r.peakRssMB)].join(" | "));
    }' "$OUT/rows.txt"
  echo "==== summary"
  printf '%s\n' "${SUMMARY[@]}"
  du -sh $DP/*
  rm -f "$OUT/step.txt"
}

main 2>&1 | tee "$OUT/probe.log"
