/**
 * Test helpers: start the engine once per test file, build arrays from plain numbers, read them back, and check
 * gradients against central finite differences.
 */
import "../../src/engine/workerAdapter.ts";
import { numpy as np, grad, type Array as JArray } from "@jax-js/jax";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/backend.ts";
import { makeRng } from "../../src/engine/rng.ts";

export { np };

/** Starts the wasm engine (idempotent). */
export async function engine(): Promise<void> {
  await startEngine({ device: "wasm" });
}

/** A float32 array of `shape` from nested or flat numbers. */
export function arr(values: number[] | Float32Array, shape: number[]): JArray {
  return np.array(values instanceof Float32Array ? values : new Float32Array(values)).reshape(shape);
}

/** Seeded uniform values in [lo, hi) as an array of `shape`. */
export function randArr(seed: number, shape: number[], lo = -1, hi = 1): JArray {
  return arr(randValues(seed, shape, lo, hi), shape);
}

/** Seeded uniform values in [lo, hi). */
export function randValues(seed: number, shape: number[], lo = -1, hi = 1): Float32Array {
  const rng = makeRng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** Reads an array's values (consumes it). */
export async function values(x: JArray): Promise<number[]> {
  return Array.from((await x.data()) as Float32Array);
}

/** Asserts |a − e| ≤ atol + rtol·|e| elementwise, with a message naming the first bad index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-5, what = "value"): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/**
 * Checks `grad(f)` at `x0` against central differences along `directions` seeded random directions:
 * ⟨∇f(x), u⟩ ≈ (f(x + εu) − f(x − εu)) / 2ε. `f` maps an array of `shape` to a scalar and consumes its input.
 * Float32 limits the accuracy, so the default tolerance is 1e-2 relative on the directional derivative.
 */
export async function gradcheck(
  f: (x: JArray) => JArray,
  x0: Float32Array,
  shape: number[],
  opts: { eps?: number; rtol?: number; atol?: number; directions?: number; seed?: number } = {},
): Promise<void> {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 1e-4;
  const g = await values(grad(f)(arr(x0, shape)));
  const rng = makeRng(opts.seed ?? 7);
  for (let t = 0; t < (opts.directions ?? 3); t++) {
    const u = Float32Array.from(x0, () => rng.uniform(-1, 1));
    const plus = Float32Array.from(x0, (v, i) => v + eps * u[i]!);
    const minus = Float32Array.from(x0, (v, i) => v - eps * u[i]!);
    const fp = (await values(f(arr(plus, shape))))[0]!;
    const fm = (await values(f(arr(minus, shape))))[0]!;
    const numeric = (fp - fm) / (2 * eps);
    const analytic = g.reduce((s, gi, i) => s + gi * u[i]!, 0);
    assert.ok(
      Math.abs(analytic - numeric) <= atol + rtol * Math.abs(numeric),
      `gradient check, direction ${t}: analytic ${analytic}, finite difference ${numeric}`,
    );
  }
}
