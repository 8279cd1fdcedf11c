/**
 * Device probe: starts the engine on WebGPU (or GPUCHECK_DEVICE), prints the adapter and the device limits that
 * matter for big models, times jitted square matmuls (1 warm-up, then 10 timed calls each) and checks a few
 * entries of the 2048² result against float64 dot products computed on the host.
 * Run: node --import tsx --import ./src/engine/workerAdapter.ts bench/device/gpucheck.ts
 */
import { blockUntilReady, getWebGPUDevice, jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { startEngine, type DeviceKind } from "../../src/engine/backend.ts";

const device = (process.env.GPUCHECK_DEVICE ?? "webgpu") as DeviceKind;
const t0 = performance.now();
process.on("uncaughtException", (e) => {
  // One clear line; the stack too, unless it is our own user-facing error.
  console.log(`gpucheck: FAILED on ${device}: ${e.message.split("\n")[0]}`);
  if (e.name !== "WildrayzerError") console.log(e.stack);
  process.exit(1);
});
process.on("unhandledRejection", (e) => {
  throw e instanceof Error ? e : new Error(String(e));
});
const info = await startEngine({ device });
console.log(`gpucheck: engine on ${info.device} (threads ${info.threads}), adapter "${info.adapter}", start ${(performance.now() - t0).toFixed(0)} ms`);
if (device === "webgpu") {
  const lim = getWebGPUDevice().limits as unknown as Record<string, number>;
  const keys = ["maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupsPerDimension", "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupStorageSize"];
  console.log(`gpucheck: limits ${keys.map((k) => `${k}=${lim[k]}`).join(" ")}`);
}

function hostMatrix(seed: number, n: number): Float32Array {
  const a = new Float32Array(n * n);
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1; // [-1, 1)
  }
  return a;
}

const mm = jit((a: JArray, b: JArray) => np.matmul(a, b));
const sizes = (process.env.GPUCHECK_SIZES ?? "2048,4096").split(",").map(Number);
for (const n of sizes) {
  const ha = hostMatrix(1, n);
  const hb = hostMatrix(2, n);
  const a = np.array(ha).reshape([n, n]);
  const b = np.array(hb).reshape([n, n]);
  await blockUntilReady([a, b]);
  const times: number[] = [];
  let last: JArray | null = null;
  for (let i = 0; i < 11; i++) {
    const t = performance.now();
    const c = mm(a.ref, b.ref);
    await blockUntilReady(c);
    if (i > 0) times.push(performance.now() - t);
    if (last) last.dispose();
    last = c;
  }
  times.sort((x, y) => x - y);
  const med = times[times.length >> 1]!;
  const gflop = (2 * n ** 3) / 1e9;
  console.log(
    `gpucheck: matmul jit N=${n}: median ${med.toFixed(2)} ms, min ${times[0]!.toFixed(2)} ms, ` +
      `${(gflop / (med / 1000)).toFixed(0)} GFLOP/s (median), ${(gflop / (times[0]! / 1000)).toFixed(0)} (best)`,
  );
  if (n === sizes[0]) {
    const got = (await last!.data()) as Float32Array;
    last = null;
    let worst = 0;
    const probes = [[0, 0], [1, 2], [n - 1, n - 1], [n >> 1, 7], [123 % n, (n * 3) >> 2]];
    for (const [i, j] of probes) {
      let ref = 0;
      for (let k = 0; k < n; k++) ref += ha[i! * n + k]! * hb[k * n + j!]!;
      const err = Math.abs(got[i! * n + j!]! - ref) / Math.max(1, Math.abs(ref));
      worst = Math.max(worst, err);
    }
    console.log(`gpucheck: matmul N=${n} check on ${probes.length} entries: max rel err ${worst.toExponential(2)} ${worst < 1e-3 ? "OK" : "MISMATCH"}`);
  }
  last?.dispose();
  a.dispose();
  b.dispose();
}
mm.dispose();
console.log(`gpucheck: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exit(0);
