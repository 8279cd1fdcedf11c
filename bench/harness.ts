/**
 * The child side of the benchmark harness: a `*.bench.ts` file lists its cases and calls `runBenchFile`, which
 * answers `--list`, or starts the engine (`WRZ_BENCH_DEVICE`: wasm, the default, webgpu or cpu) and times
 * `--case <key>` (or every case when none is named) and prints one `BENCH_ROW` JSON line per case (protocol.ts).
 * A case whose `skip` gives a reason on this device is left out of `--list` and not run (the reason goes to stderr).
 * `bench/run.ts` runs one child per case and thread count, so each row's peak RSS belongs to that case alone; run a
 * bench file directly and rows share a process.
 *
 * Timing: warm-up calls first (the first call of a jitted function traces and compiles; docs/ENGINE.md), then the median
 * of the timed calls. A call is timed from dispatch until `blockUntilReady` resolves: jax-js is lazy, and its
 * worker pool runs in parallel only when results are awaited asynchronously (docs/ENGINE.md, "Threads in Node").
 */
import { engineThreads, wasmHeapBytes } from "../src/engine/workerAdapter.ts";
import { blockUntilReady, numpy as np, tree, type Array as JArray } from "@jax-js/jax";
import { DEVICE_KINDS, startEngine, type DeviceKind } from "../src/engine/backend.ts";
import { makeRng } from "../src/engine/rng.ts";
import { startLoadProbe } from "./load.ts";
import { CASES_PREFIX, ROW_PREFIX, caseKey, median, type BenchRow } from "./protocol.ts";

/** Arrays a timed call returns: waited on, then released. */
type Outputs = Parameters<typeof blockUntilReady>[0];

/** A case, set up and ready to time. */
export type Prepared = {
  /** One call of the measured work; returns what it computed (not yet evaluated: jax-js is lazy), or host work's promise. */
  call(): Outputs | Promise<Outputs>;
  /** Frees what `call` returned (default: dispose every array in it). */
  release?(out: Outputs): void;
  /** Frees the inputs and state after the last call. */
  teardown(): void;
};

export type BenchCase = {
  name: string;
  shape: string;
  /** FLOPs of one call in units of 1e9, counted analytically. */
  gflop: number;
  /** Timed calls: full run, and `--quick`. */
  reps: { full: number; quick: number };
  /** Untimed warm-up calls: full run, and `--quick`. */
  warmup: { full: number; quick: number };
  /** Builds inputs (untimed, materialised before the first call). */
  setup(): Promise<Prepared>;
  /** Why the case cannot run on `device` with `threads` wasm threads (then it is skipped), or null to run it. */
  skip?(device: DeviceKind, threads: number): string | null;
};

/** The device benchmarks run on: env `WRZ_BENCH_DEVICE` (wasm, webgpu or cpu), default wasm. */
export function benchDevice(): DeviceKind {
  const v = process.env.WRZ_BENCH_DEVICE ?? "";
  if (v === "") return "wasm";
  if (!(DEVICE_KINDS as readonly string[]).includes(v)) {
    throw new Error(`WRZ_BENCH_DEVICE=${v}: unknown device (choose from ${DEVICE_KINDS.join(", ")})`);
  }
  return v as DeviceKind;
}

/** Seeded uniform [-1, 1) values as a materialised array of `shape` (uploaded from a Float32Array). */
export async function randomArray(seed: number, shape: number[]): Promise<JArray> {
  const rng = makeRng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform(-1, 1);
  const x = np.array(data).reshape(shape);
  await blockUntilReady(x);
  return x;
}

/** Runs the case named by `--case`, or all of them; `--list` prints the case keys; `--quick` uses fewer reps. */
export async function runBenchFile(file: string, cases: BenchCase[]): Promise<void> {
  const argv = process.argv.slice(2);
  const all = cases.map((c) => caseKey(c.name, c.shape));
  if (new Set(all).size !== all.length) throw new Error(`${file}.bench.ts: duplicate case keys`);
  const device = benchDevice();
  const threads = device === "wasm" ? engineThreads : 1;
  const runnable = cases.filter((c, i) => {
    const why = c.skip?.(device, threads) ?? null;
    if (why !== null) process.stderr.write(`bench: skipping ${file}/${all[i]} on ${device}: ${why}\n`);
    return why === null;
  });
  const keys = runnable.map((c) => caseKey(c.name, c.shape));
  if (argv.includes("--list")) {
    process.stdout.write(`${CASES_PREFIX}${JSON.stringify(keys)}\n`);
    return;
  }
  const quick = argv.includes("--quick");
  const at = argv.indexOf("--case");
  const wanted = at >= 0 ? argv[at + 1] : undefined;
  const selected = wanted === undefined ? runnable : runnable.filter((_, i) => keys[i] === wanted);
  if (selected.length === 0) {
    if (wanted !== undefined && all.includes(wanted)) return; // skipped on this device (reason printed above)
    throw new Error(`${file}.bench.ts: no case named "${wanted}" (have: ${keys.join(", ")})`);
  }

  const engine = await startEngine({ device });
  for (const c of selected) {
    const row = await timeCase(file, c, quick, engine.device, engine.threads);
    process.stdout.write(`${ROW_PREFIX}${JSON.stringify(row)}\n`);
  }
}

async function timeCase(file: string, c: BenchCase, quick: boolean, device: DeviceKind, threads: number): Promise<BenchRow> {
  const reps = quick ? c.reps.quick : c.reps.full;
  const warmup = quick ? c.warmup.quick : c.warmup.full;
  const p = await c.setup();
  const release = p.release ?? ((out: Outputs) => tree.dispose(out as never));
  const times: number[] = [];
  const cpu: number[] = [];
  let load: (() => number | null) | null = null;
  for (let i = 0; i < warmup + reps; i++) {
    if (i === warmup) load = startLoadProbe();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await p.call();
    await blockUntilReady(out);
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i >= warmup) cpu.push((c.user + c.system) / 1000);
    release(out);
    if (i >= warmup) times.push(ms);
  }
  const otherCores = load?.() ?? null;
  p.teardown();
  const ms = median(times);
  return {
    file,
    name: c.name,
    shape: c.shape,
    device,
    threads,
    ms,
    msMin: Math.min(...times),
    reps,
    warmup,
    gflop: c.gflop,
    gflops: c.gflop / (ms / 1000),
    peakRssMB: process.resourceUsage().maxRSS / 1024, // maxRSS is in kB
    wasmHeapMB: wasmHeapBytes() / 2 ** 20,
    otherCores,
    cpuMs: median(cpu),
  };
}
