/**
 * Speed of the copy-paste augmentation (src/data/copyPaste.ts) on a stage-3 batch: 8 samples × 6 views at 32² and
 * 256², the official settings (probability 0.8, 1–2 objects, scale 0.25–0.35), objects from a pool of segments of
 * 16 generated scenes at the same size (built once, untimed). Pure CPU JavaScript on one core: the jax-js engine is
 * not started, and WRZ_THREADS changes nothing here.
 *
 * Speaks bench/protocol.ts directly (as bench/synth.bench.ts does): `--list` prints the case keys, `--case <key>`
 * (or nothing: every case) prints one `BENCH_ROW` per case. One timed call is one batch: `copyPaste` on each of the
 * 8 samples with the next draws of one seeded generator. `gflop` is 0 (nothing to count); the row carries the pool
 * size and the mean pasted objects per batch as extra fields.
 */
import { SYNTH_PRESETS } from "../src/data/config.ts";
import { DEFAULT_COPY_PASTE, copyPaste, synthSegments, type Segment } from "../src/data/copyPaste.ts";
import { makeRng } from "../src/engine/rng.ts";
import { startLoadProbe } from "./load.ts";
import { CASES_PREFIX, META_PREFIX, ROW_PREFIX, caseKey, median, type BenchRow } from "./protocol.ts";

const NAME = "copyPaste batch";
const SIZES = [32, 256] as const;
const [SAMPLES, VIEWS, POOL_SCENES] = [8, 6, 16];
/** Batches timed per case (full run, `--quick`) and untimed warm-up batches (the JIT compiles the hot loops). */
const REPS: Record<(typeof SIZES)[number], { full: number; quick: number; warmup: number }> = {
  32: { full: 200, quick: 20, warmup: 50 },
  256: { full: 40, quick: 5, warmup: 10 },
};

const shapeOf = (size: number) => `b${SAMPLES} v${VIEWS} ${size}x${size}`;

function timeCase(size: (typeof SIZES)[number], quick: boolean): BenchRow & { segments: number; objectsPerBatch: number } {
  const pool: Segment[] = [];
  for (let s = 0; s < POOL_SCENES; s++) pool.push(...synthSegments(20_000 + s, { ...SYNTH_PRESETS.small, size, frames: 2 }));
  const rng = makeRng(1);
  const sample = size * size * 3 * VIEWS;
  const batch = Float32Array.from({ length: SAMPLES * sample }, () => rng.next()); // [b, v, 3, h, w]
  const { full, quick: q, warmup } = REPS[size];
  const reps = quick ? q : full;
  let objects = 0;
  const run = () => {
    for (let i = 0; i < SAMPLES; i++) objects += copyPaste(rng, batch.subarray(i * sample, (i + 1) * sample), VIEWS, size, size, pool, DEFAULT_COPY_PASTE).placements.length;
  };
  for (let i = 0; i < warmup; i++) run();
  objects = 0;
  const times: number[] = [];
  const load = startLoadProbe();
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  const otherCores = load();
  const ms = median(times);
  return {
    file: "copyPaste",
    name: NAME,
    shape: shapeOf(size),
    threads: Number(process.env.WRZ_THREADS ?? 1),
    ms,
    msMin: Math.min(...times),
    reps,
    warmup,
    gflop: 0,
    gflops: 0,
    peakRssMB: process.resourceUsage().maxRSS / 1024, // maxRSS is in kB
    wasmHeapMB: 0,
    otherCores,
    segments: pool.length,
    objectsPerBatch: objects / reps,
  };
}

function main(): void {
  const argv = process.argv.slice(2);
  const keys = SIZES.map((s) => caseKey(NAME, shapeOf(s)));
  if (argv.includes("--list")) {
    process.stdout.write(`${CASES_PREFIX}${JSON.stringify(keys)}\n`);
    process.stdout.write(`${META_PREFIX}${JSON.stringify({ singleThreaded: true })}\n`); // plain JavaScript on one core
    return;
  }
  const at = argv.indexOf("--case");
  const wanted = at >= 0 ? argv[at + 1] : undefined;
  const selected = SIZES.filter((_, i) => wanted === undefined || keys[i] === wanted);
  if (selected.length === 0) throw new Error(`copyPaste.bench.ts: no case named "${wanted}" (have: ${keys.join(", ")})`);
  for (const size of selected) {
    const row = timeCase(size, argv.includes("--quick"));
    process.stdout.write(`${ROW_PREFIX}${JSON.stringify(row)}\n`);
    process.stdout.write(`${JSON.stringify({ name: row.name, shape: row.shape, ms: row.ms, segments: row.segments, objectsPerBatch: row.objectsPerBatch, otherCores: row.otherCores })}\n`);
  }
}

main();
