/**
 * What a benchmark child process prints and the runner (`bench/run.ts`) reads: one line per message on stdout,
 * each a fixed prefix and one JSON value. `BENCH_CASES` answers `--list` with the case keys of a file, optionally
 * with a `BENCH_META` line (`BenchMeta`); `BENCH_ROW` carries one measured row. The runner ignores any other line.
 * This module imports no jax-js, so the runner and engine-free benchmarks can use it without starting an engine.
 */

export const CASES_PREFIX = "BENCH_CASES ";
export const META_PREFIX = "BENCH_META ";
export const ROW_PREFIX = "BENCH_ROW ";

/** Optional facts about a bench file, printed with `--list`. */
export type BenchMeta = {
  /** True when the file does not use jax-js's worker pool: the runner then runs it at the first thread count only. */
  singleThreaded?: boolean;
};

/** One measured row: a case at one thread count. Times in ms, peak memory in MB (2^20 bytes). */
export type BenchRow = {
  /** The benchmark file without `.bench.ts` (`matmul`, `block`). */
  file: string;
  /** What was run (`matmul jit`, `block fwd+bwd`). */
  name: string;
  /** The problem size (`N=1024`, `b2 n384 d256 h4 r4`). */
  shape: string;
  /** The engine's device (`WRZ_BENCH_DEVICE`); rows written before it existed are wasm. */
  device?: "wasm" | "webgpu" | "cpu";
  /** Worker threads of jax-js's wasm backend in this child (`WRZ_THREADS`); 1 on webgpu and cpu. */
  threads: number;
  /** Median wall time of one call, from dispatch to `blockUntilReady`. */
  ms: number;
  /** Fastest timed call. */
  msMin: number;
  /** Timed calls (warm-up calls excluded). */
  reps: number;
  /** Warm-up calls, not timed (the first call of a jitted function traces and compiles). */
  warmup: number;
  /** Floating-point operations of one call, counted analytically (formulas in the bench file and BENCHMARKS.md). */
  gflop: number;
  /** `gflop / (ms / 1000)`. */
  gflops: number;
  /** Peak resident set of the child process at the end of the case (`process.resourceUsage().maxRSS`). */
  peakRssMB: number;
  /** jax-js's wasm heap at the end of the case (it only grows: its high-water mark). */
  wasmHeapMB: number;
  /**
   * CPU used by other processes during the timed calls, in cores (host busy time from /proc/stat minus this
   * process's own CPU time, over the wall time); null where /proc/stat is missing. On a 2-core machine anything
   * above ~0.2 means the row was measured on a shared machine and is slower than it should be.
   */
  otherCores: number | null;
  /** Median CPU time of the process (all its threads) per timed call, ms: the work done, less sensitive to load than `ms`. */
  cpuMs?: number;
};

/** Key of a case, unique within its file; `--only` matches a substring of `file/key`. */
export function caseKey(name: string, shape: string): string {
  return `${name} ${shape}`;
}

/** Median of a non-empty list (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
