/**
 * Square matmul throughput on jax-js's wasm backend: C = A @ B with A, B [N, N] float32, N = 256, 1024, 2048,
 * eager (`np.matmul`) and jitted (`jit((a, b) => np.matmul(a, b))`). FLOPs per call: 2·N³.
 *
 * Inputs are random values uploaded from a Float32Array, so every call reads real memory. An eager matmul of
 * `np.ones` inputs is a constant broadcast that jax-js fuses into the kernel, so it reads no input memory and
 * overstates throughput (61 against 36 GFLOP/s at N=1024, 2 threads, when first measured); the
 * `matmul eager ones` row keeps that effect visible. (Passed to a jitted function, ones are ordinary inputs.)
 * Run through `npm run bench`, or alone: `node --import tsx --import ./src/engine/workerAdapter.ts bench/matmul.bench.ts`.
 */
import { jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { randomArray, runBenchFile, type BenchCase, type Prepared } from "./harness.ts";

const SIZES = [256, 1024, 2048];

/** Timed and warm-up calls per size: ≥ 0.3 s of timed work per row (the load probe counts in 10 ms ticks). */
function reps(n: number): Pick<BenchCase, "reps" | "warmup"> {
  if (n <= 256) return { reps: { full: 100, quick: 10 }, warmup: { full: 5, quick: 2 } };
  if (n <= 1024) return { reps: { full: 9, quick: 3 }, warmup: { full: 2, quick: 1 } };
  return { reps: { full: 5, quick: 1 }, warmup: { full: 1, quick: 1 } };
}

function matmulCase(n: number, mode: "eager" | "jit", inputs: "random" | "ones"): BenchCase {
  return {
    name: `matmul ${mode}${inputs === "ones" ? " ones" : ""}`,
    shape: `N=${n}`,
    gflop: (2 * n ** 3) / 1e9,
    ...reps(n),
    async setup(): Promise<Prepared> {
      const a: JArray = inputs === "ones" ? np.ones([n, n]) : await randomArray(1, [n, n]); // [N, N]
      const b: JArray = inputs === "ones" ? np.ones([n, n]) : await randomArray(2, [n, n]); // [N, N]
      const f = mode === "jit" ? jit((x: JArray, y: JArray) => np.matmul(x, y)) : null;
      return {
        call: () => (f ? f(a.ref, b.ref) : np.matmul(a.ref, b.ref)), // [N, N]; .ref keeps the inputs for the next call
        teardown: () => {
          a.dispose();
          b.dispose();
          f?.dispose();
        },
      };
    },
  };
}

const cases: BenchCase[] = [
  ...SIZES.flatMap((n) => [matmulCase(n, "eager", "random"), matmulCase(n, "jit", "random")]),
  matmulCase(1024, "eager", "ones"), // reference only: overstates throughput (see the header)
];

await runBenchFile("matmul", cases);
