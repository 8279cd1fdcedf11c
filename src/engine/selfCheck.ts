/**
 * Engine self-check with known answers, used by `wildrayzer demo` and `info`: a jitted matmul against a float64
 * host product, and the gradient of a tiny QK-norm transformer block against central finite differences. Throws
 * `WildrayzerError` (exit 1) when the engine computes wrong numbers.
 */
import { grad, jit, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { WildrayzerError } from "./errors.ts";
import { initBlock, runBlock, type BlockConfig } from "./layers.ts";
import { dispose, ref } from "./params.ts";
import { makeRng } from "./rng.ts";

export type CheckResult = { name: string; detail: string; ms: number };

/** A jitted [64, 48] @ [48, 32] matmul against the same product in float64 on the host. */
export async function checkMatmul(): Promise<CheckResult> {
  const [m, k, n] = [64, 48, 32];
  const rng = makeRng(1);
  const a = Float32Array.from({ length: m * k }, () => rng.uniform(-1, 1));
  const b = Float32Array.from({ length: k * n }, () => rng.uniform(-1, 1));
  const t0 = performance.now();
  const f = jit((x: JArray, y: JArray) => np.matmul(x, y));
  const got = (await f(np.array(a, { shape: [m, k] }), np.array(b, { shape: [k, n] })).data()) as Float32Array;
  const ms = performance.now() - t0;
  f.dispose();
  let maxErr = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * n + j]!;
      maxErr = Math.max(maxErr, Math.abs(got[i * n + j]! - s));
    }
  }
  if (!(maxErr <= 1e-4)) throw new WildrayzerError(`engine check failed: jitted matmul is off by ${maxErr}`, { exitCode: 1 });
  return { name: "jit matmul", detail: `[${m},${k}]@[${k},${n}] max error ${maxErr.toExponential(1)}`, ms };
}

/** The gradient of sum(block(x)²) for a d=16, 2-head block, along two directions, against central differences. */
export async function checkBlockGradient(): Promise<CheckResult> {
  const cfg: BlockConfig = { d: 16, heads: 2, mlpRatio: 2, eps: 1e-5 };
  const shape = [1, 4, cfg.d]; // [b, n, d]
  const rng = makeRng(2);
  const x0 = Float32Array.from({ length: 4 * cfg.d }, () => rng.uniform(-1, 1));
  const params = initBlock(random.key(3), cfg, 0.3);
  const f = (x: JArray): JArray => np.sum(np.square(runBlock(ref(params), x, cfg))); // ref: params serve every call
  const at = async (v: Float32Array): Promise<number> => ((await f(np.array(v, { shape })).data()) as Float32Array)[0]!;
  const t0 = performance.now();
  const g = (await grad(f)(np.array(x0, { shape })).data()) as Float32Array;
  const ms = performance.now() - t0;
  const eps = 1e-2;
  let worst = 0;
  for (let dir = 0; dir < 2; dir++) {
    const u = Float32Array.from(x0, () => rng.uniform(-1, 1));
    const numeric = ((await at(x0.map((v, i) => v + eps * u[i]!))) - (await at(x0.map((v, i) => v - eps * u[i]!)))) / (2 * eps);
    const analytic = g.reduce((s, gi, i) => s + gi * u[i]!, 0);
    worst = Math.max(worst, Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-3));
  }
  dispose(params);
  // Float32 central differences with eps 1e-2 agree to ~1e-3; 2e-2 leaves room without hiding a wrong gradient.
  if (!(worst <= 2e-2)) throw new WildrayzerError(`engine check failed: transformer block gradient is off by ${worst.toExponential(1)} relative`, { exitCode: 1 });
  return { name: "block gradient", detail: `d=${cfg.d} vs finite differences, relative error ${worst.toExponential(1)}`, ms };
}
