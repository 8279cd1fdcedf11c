#!/usr/bin/env bash
# Builds .devprobe/ (ignored: add `/.devprobe/` to .git/info/exclude) for a bare Linux x86-64 GPU machine without
# Node, npm or network: Node itself, the node_modules the benchmarks and the training loop load (no sharp, OpenCV
# or ffmpeg: bench/*.bench.ts and src/train never import them), the `webgpu` package with only its linux-x64 Dawn
# binary, and the Vulkan loader + GL dispatch debs. About 33 MB. Then, on the machine, from the repo root:
#   bash bench/device/probe.sh   (adapter, matmul check, rayzer + matmul benches on webgpu and on wasm)
#   bash bench/device/train.sh   (continue runs/default on WebGPU; copy runs/default to .devprobe/run0 first)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .devprobe/gl /tmp/amd64/partial
xz -T2 -9 -c "$(command -v node)" > .devprobe/node.xz
tar -cJf .devprobe/nm.tar.xz --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' \
  node_modules/@jax-js node_modules/tsx node_modules/esbuild node_modules/@esbuild node_modules/zod node_modules/debug node_modules/ms node_modules/webgpu
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update >/dev/null
# shellcheck disable=SC2086
(cd .devprobe/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
mkdir -p .devprobe/run0 && cp runs/default/checkpoint.safetensors runs/default/metrics.jsonl .devprobe/run0/ 2>/dev/null || true  # for train.sh
du -sh .devprobe/*
