/**
 * Speed of the synthetic scene generator (src/data/synth/): frames per second at 32², 64², 128² and 256² with the
 * `small` preset otherwise (8 frames per scene, 2 × 2 samples per pixel, 1–2 movers, mixed paths). Pure CPU
 * JavaScript on one core: the jax-js engine is not started, and WRZ_THREADS changes nothing here.
 *
 * Speaks bench/protocol.ts directly (not harness.ts, which starts the wasm engine): `--list` prints the case keys,
 * `--case <key>` (or nothing: every case) prints one `BENCH_ROW` per case. One timed "call" is one frame: each rep
 * generates a whole scene with a fresh seed (layout, packing and every frame) and divides its time by its frames,
 * so `ms` is the median time per frame including the per-scene set-up. `gflop` is 0 (nothing to count); the row
 * carries `framesPerSec` = 1000 / ms as an extra field, and a plain JSON line per case is printed too:
 *   {"name":"synth frames/s","shape":"64x64","ms":…,"framesPerSec":…}
 */
import { SYNTH_PRESETS, type SynthConfig } from "../src/data/config.ts";
import { generateScene } from "../src/data/synth/index.ts";
import { startLoadProbe } from "./load.ts";
import { CASES_PREFIX, META_PREFIX, ROW_PREFIX, caseKey, median, type BenchRow } from "./protocol.ts";

const NAME = "synth frames/s";
const SIZES = [32, 64, 128, 256] as const;
/** Scenes timed per case (full run, `--quick`) and untimed warm-up scenes (the JIT compiles the hot loop). */
const REPS: Record<(typeof SIZES)[number], { full: number; quick: number; warmup: number }> = {
  32: { full: 60, quick: 8, warmup: 30 },
  64: { full: 30, quick: 4, warmup: 15 },
  128: { full: 10, quick: 2, warmup: 4 },
  256: { full: 5, quick: 1, warmup: 2 },
};

const shapeOf = (size: number) => `${size}x${size}`;

function timeCase(size: (typeof SIZES)[number], quick: boolean): BenchRow & { framesPerSec: number } {
  const cfg: SynthConfig = { ...SYNTH_PRESETS.small, size };
  const { full, quick: q, warmup } = REPS[size];
  const reps = quick ? q : full;
  for (let i = 0; i < warmup; i++) generateScene(i, cfg);
  const perFrame: number[] = [];
  const load = startLoadProbe();
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const scene = generateScene(10_000 + i, cfg);
    perFrame.push((performance.now() - t0) / scene.frames.length);
  }
  const otherCores = load();
  const ms = median(perFrame);
  return {
    file: "synth",
    name: NAME,
    shape: shapeOf(size),
    threads: Number(process.env.WRZ_THREADS ?? 1),
    ms,
    msMin: Math.min(...perFrame),
    reps,
    warmup,
    gflop: 0,
    gflops: 0,
    peakRssMB: process.resourceUsage().maxRSS / 1024, // maxRSS is in kB
    wasmHeapMB: 0,
    otherCores,
    framesPerSec: 1000 / ms,
  };
}

function main(): void {
  const argv = process.argv.slice(2);
  const keys = SIZES.map((s) => caseKey(NAME, shapeOf(s)));
  if (argv.includes("--list")) {
    process.stdout.write(`${CASES_PREFIX}${JSON.stringify(keys)}\n`);
    process.stdout.write(`${META_PREFIX}${JSON.stringify({ singleThreaded: true })}\n`); // the generator uses one core
    return;
  }
  const at = argv.indexOf("--case");
  const wanted = at >= 0 ? argv[at + 1] : undefined;
  const selected = SIZES.filter((_, i) => wanted === undefined || keys[i] === wanted);
  if (selected.length === 0) throw new Error(`synth.bench.ts: no case named "${wanted}" (have: ${keys.join(", ")})`);
  for (const size of selected) {
    const row = timeCase(size, argv.includes("--quick"));
    process.stdout.write(`${ROW_PREFIX}${JSON.stringify(row)}\n`);
    process.stdout.write(`${JSON.stringify({ name: row.name, shape: row.shape, ms: row.ms, framesPerSec: row.framesPerSec, otherCores: row.otherCores })}\n`);
  }
}

main();
