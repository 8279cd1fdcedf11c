/**
 * The matmul cases of test/engine/matmulKernel.test.ts: seeded operands and the jitted products (plain, batched,
 * transposed on either side, odd sizes, batch 1, a fused bias + GELU epilogue) and gradients. Shared by the test
 * and by test/fixtures/make_matmul_fixture.ts, which records what the unpatched jax-js computes.
 */
import { jit, nn, numpy as np, valueAndGrad, type Array as JArray } from "@jax-js/jax";
import { makeRng } from "../../src/engine/rng.ts";

export type MatmulCase = { name: string; a: number[]; b: number[]; run: (a: JArray, b: JArray) => JArray | JArray[] };

export function values(seed: number, shape: readonly number[]): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.uniform(-1, 1));
}

const mm = (a: JArray, b: JArray) => np.matmul(a, b);
const loss = (a: JArray, b: JArray) => np.sum(np.square(np.matmul(a, b)));

export const CASES: MatmulCase[] = [
  { name: "square 64", a: [64, 64], b: [64, 64], run: mm },
  { name: "odd 37x29 @ 29x41", a: [37, 29], b: [29, 41], run: mm },
  { name: "one row 1x130 @ 130x70", a: [1, 130], b: [130, 70], run: mm },
  { name: "batch 1 [1,50,128] @ [128,96]", a: [1, 50, 128], b: [128, 96], run: mm },
  { name: "batched [3,33,17] @ [3,17,65]", a: [3, 33, 17], b: [3, 17, 65], run: mm },
  { name: "linear rows 104 [4,26,64] @ [64,72]", a: [4, 26, 64], b: [64, 72], run: mm },
  { name: "a @ bᵀ [2,45,32] @ [2,51,32]ᵀ", a: [2, 45, 32], b: [2, 51, 32], run: (a, b) => np.matmul(a, b.transpose([0, 2, 1])) },
  { name: "aᵀ @ b [96,70]ᵀ @ [96,66]", a: [96, 70], b: [96, 66], run: (a, b) => np.matmul(a.transpose([1, 0]), b) },
  { name: "bias + gelu epilogue [130,64] @ [64,200]", a: [130, 64], b: [64, 200], run: (a, b) => nn.gelu(np.matmul(a, b).add(0.1), { approximate: false }) },
  { name: "grad of Σ(a@b)² [2,38,64] @ [64,90]", a: [2, 38, 64], b: [64, 90], run: (a, b) => { const [l, g] = valueAndGrad(loss, { argnums: [0, 1] })(a, b) as unknown as [JArray, JArray[]]; return [l, ...g]; } },
];

/** Runs a case jitted and returns its outputs on the host. */
/** What the fixture keeps of an output: its length, sum, sum of squares and every 37th value (strided sample). */
export function summary(x: Float32Array): { n: number; sum: number; sumSq: number; sample: number[] } {
  let sum = 0;
  let sumSq = 0;
  const sample: number[] = [];
  for (let i = 0; i < x.length; i++) {
    sum += x[i]!;
    sumSq += x[i]! * x[i]!;
    if (i % 37 === 0) sample.push(x[i]!);
  }
  return { n: x.length, sum, sumSq, sample };
}

export async function runCase(c: MatmulCase, seed: number): Promise<Float32Array[]> {
  const a = np.array(values(seed, c.a)).reshape(c.a);
  const b = np.array(values(seed + 1, c.b)).reshape(c.b);
  const f = jit((x: JArray, y: JArray) => {
    const out = c.run(x, y);
    return Array.isArray(out) ? out : [out];
  });
  const outs = f(a, b) as JArray[];
  const host: Float32Array[] = [];
  for (const o of outs) host.push(Float32Array.from((await o.data()) as Float32Array));
  f.dispose();
  return host;
}
