/**
 * `wildrayzer demo`: for now, says what the full demo will do (the WildRayZer pipeline, stage by stage), starts
 * the engine, and runs an engine check with known answers: a jitted matmul against a float64 host product, and
 * the gradient of a tiny QK-norm transformer block (engine/layers.ts) against central finite differences.
 * Prints `engine check: ok` with timings, or fails with exit 1. The synthetic scene, training and rendering
 * arrive with the RayZer core.
 */
import type { Command } from "commander";
import { startEngine } from "../engine/backend.ts";
import { checkBlockGradient, checkMatmul, type CheckResult } from "../engine/selfCheck.ts";
import type { GlobalOptions } from "./main.ts";
import { createProgress, formatDuration } from "./progress.ts";

const PIPELINE = [
  "What the demo will do once the RayZer core lands:",
  "  1. synthesize a small dynamic scene (moving camera, moving objects) with known poses and motion masks",
  "  2. camera estimator: images -> relative poses (6D rotation + translation) and shared intrinsics",
  "  3. scene encoder: input views + Pluecker ray tokens (dynamic tokens zeroed) -> latent scene tokens",
  "  4. renderer: target-view rays + latent scene -> RGB; motion estimator: features + rays -> motion masks",
  "  5. train in three stages (static RayZer, motion masks from pseudo-labels with the renderer frozen, joint),",
  "     then render novel views and report PSNR / SSIM on static pixels and mask mIoU",
];

export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command("demo")
    .description("describe the pipeline and check that the array engine computes values and gradients correctly")
    .action(async () => {
      const g = globals();
      const out = (line: string) => process.stdout.write(`${line}\n`);
      if (!g.quiet) PIPELINE.forEach(out);
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
    });
}
