/**
 * `wildrayzer demo`: says what the full demo will do (the WildRayZer pipeline, stage by stage), starts the engine
 * and runs an engine check with known answers (a jitted matmul against a float64 host product, and the gradient
 * of a tiny QK-norm transformer block against central finite differences), then synthesises three small dynamic
 * scenes with different camera paths, writes them as scene folders (`--out`/scenes/scene_0000i, see
 * src/data/sceneIo.ts) and builds an HTML report of them (`--out`/report.html: observed and static frames, motion
 * masks, depth, camera paths). Prints `engine check: ok` with timings and `report: <path>`; fails with exit 1 when
 * the engine computes wrong numbers. Training and rendering arrive with the RayZer core.
 */
import { join } from "node:path";
import type { Command } from "commander";
import { SYNTH_PRESETS, SynthConfigSchema, type SynthConfig } from "../data/config.ts";
import { writeScene } from "../data/sceneIo.ts";
import type { Scene } from "../data/scene.ts";
import { generateScene } from "../data/synth/index.ts";
import { startEngine } from "../engine/backend.ts";
import { checkBlockGradient, checkMatmul, type CheckResult } from "../engine/selfCheck.ts";
import { buildReport, writeReport } from "../eval/report.ts";
import type { GlobalOptions } from "./main.ts";
import { createProgress, formatDuration } from "./progress.ts";
import { sceneFolderName } from "./synth.ts";

const PIPELINE = [
  "What the demo does (steps 2-5 arrive with the RayZer core):",
  "  1. synthesize small dynamic scenes (moving camera, moving objects) with known poses and motion masks",
  "  2. camera estimator: images -> relative poses (6D rotation + translation) and shared intrinsics",
  "  3. scene encoder: input views + Pluecker ray tokens (dynamic tokens zeroed) -> latent scene tokens",
  "  4. renderer: target-view rays + latent scene -> RGB; motion estimator: features + rays -> motion masks",
  "  5. train in three stages (static RayZer, motion masks from pseudo-labels with the renderer frozen, joint),",
  "     then render novel views and report PSNR / SSIM on static pixels and mask mIoU",
];

/** The demo's scenes: 64², 8 frames, 1-3 movers, one camera path kind each. Seeds are fixed: the same pictures every run. */
const DEMO_SCENES: { seed: number; path: SynthConfig["path"] }[] = [
  { seed: 1, path: "walk" },
  { seed: 2, path: "orbit" },
  { seed: 3, path: "pan" },
];

function demoConfig(path: SynthConfig["path"]): SynthConfig {
  return SynthConfigSchema.parse({ ...SYNTH_PRESETS.small, size: 64, frames: 8, movers: [1, 3], path });
}

export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command("demo")
    .description("check the array engine, synthesize three small dynamic scenes and write an HTML report of them")
    .option("--out <dir>", "output folder for the scenes and the report", join("out", "demo"))
    .action(async (opts: { out: string }) => {
      const g = globals();
      const out = (line: string) => process.stdout.write(`${line}\n`);
      if (!g.quiet) PIPELINE.forEach(out);
      await engineCheck(g, out);
      const t0 = performance.now();
      const progress = createProgress({ label: "demo scenes", total: DEMO_SCENES.length, quiet: g.quiet });
      const scenes: { scene: Scene; caption: string }[] = [];
      for (const [i, { seed, path }] of DEMO_SCENES.entries()) {
        progress.update(i, `${path} path`);
        const cfg = demoConfig(path);
        const scene = generateScene(seed, cfg);
        await writeScene(join(opts.out, "scenes", sceneFolderName(i)), scene, { generator: { seed, config: cfg } });
        scenes.push({ scene, caption: `seed ${seed}, ${path} camera path, ${cfg.movers[0]}-${cfg.movers[1]} movers, ${cfg.texture} textures` });
      }
      progress.update(DEMO_SCENES.length);
      progress.stop(`${DEMO_SCENES.length} scenes written to ${join(opts.out, "scenes")}`);
      const report = await buildReport({
        title: "WildRayZer demo: synthetic dynamic scenes",
        intro:
          "Per scene: the observed frames, the same views without the moving objects, the ground-truth motion masks, " +
          "depth (near red, far blue) and the camera path seen from above. These are the data the model trains and is evaluated on.",
        scenes,
      });
      const page = writeReport(opts.out, report);
      if (!g.quiet) out(`scenes: ${scenes.map((s) => s.scene.name).join(", ")} in ${join(opts.out, "scenes")} (${formatDuration(performance.now() - t0)})`);
      out(`report: ${page}`);
    });
}

/** Starts the engine and runs the known-answer checks; prints `engine check: ok (...)`. */
async function engineCheck(g: GlobalOptions, out: (line: string) => void): Promise<void> {
  const engine = await startEngine({ device: g.device });
  if (!g.quiet) out(`\nengine: ${engine.device}, ${engine.threads} thread${engine.threads === 1 ? "" : "s"}, jax-js ${engine.jaxVersion}`);
  const progress = createProgress({ label: "engine check", total: 2, quiet: g.quiet });
  const t0 = performance.now();
  const results: CheckResult[] = [];
  progress.update(0, "jit matmul");
  results.push(await checkMatmul());
  progress.update(1, "block gradient");
  results.push(await checkBlockGradient());
  progress.update(2);
  progress.stop("2/2 checks passed");
  if (g.verbose) for (const r of results) out(`  ${r.name}: ${r.detail} (${formatDuration(r.ms)})`);
  out(`engine check: ok (${results.map((r) => `${r.name} ${formatDuration(r.ms)}`).join(", ")}; total ${formatDuration(performance.now() - t0)})`);
}
