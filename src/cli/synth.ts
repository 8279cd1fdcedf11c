/**
 * `wildrayzer synth`: writes synthetic dynamic scenes (src/data/synth/) to disk in the scene-folder format of
 * src/data/sceneIo.ts, one folder per scene: `DIR/scene_00000` has seed K, `DIR/scene_00001` seed K + 1, ...
 * Flags override a preset (`--preset small` by default) and the result is checked by the strict `SynthConfig`
 * schema, so a bad value is a one-line usage error (exit 2) naming the flag. The same flags always give
 * byte-identical files. Training does not need this (it generates scenes on the fly, src/train/batches.ts); it is
 * for looking at the data and for fixed evaluation sets (seeds from HELD_OUT_SEED_START on).
 */
import { join } from "node:path";
import { Option, type Command } from "commander";
import { HELD_OUT_SEED_START, SYNTH_PRESETS, SynthConfigSchema, type SynthConfig, type SynthPreset } from "../data/config.ts";
import { writeScene } from "../data/sceneIo.ts";
import { generateScene } from "../data/synth/index.ts";
import { WildrayzerError } from "../engine/errors.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress } from "./progress.ts";

/** The raw flag strings of `synth` that shape the scenes (all optional: the preset fills the rest). */
export type SynthFlags = {
  preset?: string;
  frames?: string;
  size?: string;
  movers?: string;
  path?: string;
  texture?: string;
  spp?: string;
};

/** The flag that sets each `SynthConfig` key, for error messages. */
const FLAG_OF: Partial<Record<keyof SynthConfig, keyof SynthFlags>> = {
  size: "size",
  frames: "frames",
  movers: "movers",
  path: "path",
  texture: "texture",
  samplesPerPixel: "spp",
};

/** The image sides the schema allows, read from it. */
const SIZES = SynthConfigSchema.shape.size.options.map((o) => o.value);

/** Preset + flags → a validated `SynthConfig`; throws a one-line `WildrayzerError` (exit 2) naming the bad flag. */
export function synthConfigFromFlags(flags: SynthFlags): SynthConfig {
  const presetName = flags.preset ?? "small";
  if (!(presetName in SYNTH_PRESETS)) {
    throw new WildrayzerError(`--preset ${presetName}: unknown data preset (choose from ${Object.keys(SYNTH_PRESETS).join(", ")})`);
  }
  const raw: Record<string, unknown> = { ...SYNTH_PRESETS[presetName as SynthPreset] };
  if (flags.size !== undefined) raw.size = intFlag("size", flags.size);
  if (flags.frames !== undefined) raw.frames = intFlag("frames", flags.frames);
  if (flags.spp !== undefined) raw.samplesPerPixel = intFlag("spp", flags.spp);
  if (flags.movers !== undefined) raw.movers = rangeFlag("movers", flags.movers);
  if (flags.path !== undefined) raw.path = flags.path;
  if (flags.texture !== undefined) raw.texture = flags.texture;
  const parsed = SynthConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = issue.path[0] as keyof SynthConfig;
  const flag = FLAG_OF[key];
  const where = flag ? `--${flag} ${flags[flag]}` : `preset ${presetName}: ${String(key)}`;
  // zod says only "Invalid input" for a union of literals: list them.
  const message = key === "size" && issue.code === "invalid_union" ? `must be one of ${SIZES.join(", ")}` : issue.message;
  throw new WildrayzerError(`${where}: ${message}`);
}

/** `N` or `MIN..MAX` (non-negative integers) → [min, max]. */
function rangeFlag(name: string, value: string): [number, number] {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(value.trim());
  if (!m) throw new WildrayzerError(`--${name} ${value}: expected MIN..MAX or N, e.g. 1..3`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

function intFlag(name: string, value: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new WildrayzerError(`--${name} ${value}: expected an integer${max < Number.MAX_SAFE_INTEGER ? ` in [${min}, ${max}]` : ` ≥ ${min}`}`);
  }
  return n;
}

/** Folder of scene `i` under the output folder. */
export function sceneFolderName(i: number): string {
  return `scene_${String(i).padStart(5, "0")}`;
}

/**
 * Generates scenes with seeds `seed, seed + 1, ...` and writes each to `out/scene_0000i`, calling `onScene` after
 * each one. Returns the folders written.
 */
export async function writeSynthScenes(
  out: string,
  cfg: SynthConfig,
  seeds: readonly number[],
  onScene?: (done: number, dir: string) => void,
): Promise<string[]> {
  const dirs: string[] = [];
  for (const [i, seed] of seeds.entries()) {
    const dir = join(out, sceneFolderName(i));
    await writeScene(dir, generateScene(seed, cfg), { generator: { seed, config: cfg } });
    dirs.push(dir);
    onScene?.(i + 1, dir);
  }
  return dirs;
}

type SynthOptions = SynthFlags & { out: string; scenes: string; seed: string };

export function registerSynth(program: Command, globals: () => GlobalOptions): void {
  program
    .command("synth")
    .description("write synthetic dynamic scenes (images, static views, motion masks, depth, cameras) to scene folders")
    .requiredOption("--out <dir>", "output folder; scene i goes to DIR/scene_0000i")
    .option("--scenes <n>", "number of scenes", "1")
    .option("--seed <k>", "seed of the first scene; scene i has seed K + i", "0")
    .addOption(new Option("--preset <name>", "data preset the other flags override").choices(Object.keys(SYNTH_PRESETS)).default("small"))
    .option("--frames <f>", "frames per scene")
    .option("--size <s>", "image side in pixels: 32, 64, 128 or 256")
    .option("--movers <min..max>", "moving objects per scene, e.g. 1..3 (0..0 for static scenes)")
    .option("--path <kind>", "camera path: walk, pan, jitter, orbit or mixed")
    .option("--texture <kind>", "texture frequency: smooth, mixed or busy")
    .option("--spp <n>", "anti-aliasing samples per pixel (a perfect square: 1, 4, 9, ...)")
    .action(async (opts: SynthOptions) => {
      const g = globals();
      const cfg = synthConfigFromFlags(opts);
      const scenes = intFlag("scenes", opts.scenes);
      const seed = intFlag("seed", opts.seed, 0, 2 ** 32 - 1);
      if (seed + scenes > 2 ** 32) throw new WildrayzerError(`--seed ${opts.seed} --scenes ${opts.scenes}: seeds must stay below 2^32`);
      const seeds = Array.from({ length: scenes }, (_, i) => seed + i);
      const progress = createProgress({ label: "synth", total: scenes, quiet: g.quiet });
      await writeSynthScenes(opts.out, cfg, seeds, (done) => progress.update(done, `seed ${seed + done - 1}`));
      progress.stop(`${scenes}/${scenes} scenes`);
      const last = seed + scenes - 1;
      const split = seed >= HELD_OUT_SEED_START ? "held-out" : last >= HELD_OUT_SEED_START ? "train and held-out" : "train";
      const movers = `${cfg.movers[0]}..${cfg.movers[1]}`;
      process.stdout.write(
        `synth: wrote ${scenes} scene${scenes === 1 ? "" : "s"} to ${opts.out} (seeds ${seed === last ? seed : `${seed}..${last}`}, ${split}; ` +
          `${cfg.frames} frames of ${cfg.size}×${cfg.size}, movers ${movers}, path ${cfg.path}, texture ${cfg.texture}, spp ${cfg.samplesPerPixel})\n`,
      );
    });
}
