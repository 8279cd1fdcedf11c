/**
 * `wildrayzer train`: stage-1 RayZer training on the embedded synthetic scenes (generated on the fly), in a run
 * folder holding config.json, metrics.jsonl and checkpoint.safetensors. `--resume` continues exactly where a
 * killed run stopped. The resolved config is printed at the start; progress is a bar (or one line per log
 * interval when stderr is not a terminal).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { WildrayzerError } from "../engine/errors.ts";
import { startEngine } from "../engine/backend.ts";
import { resolveRunConfig } from "../train/config.ts";
import { trainStage1 } from "../train/loop.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress, formatDuration } from "./progress.ts";

type TrainFlags = { preset: string; out: string; steps?: string; resume: boolean; set: string[]; poseWarmup?: string; seed?: string; data: string };

export function registerTrain(program: Command, globals: () => GlobalOptions): void {
  program
    .command("train")
    .description("train the RayZer core (stage 1, self-supervised) on synthetic scenes generated on the fly")
    .option("--preset <name>", "run preset: tiny (tests) or small (the CPU demo model)", "small")
    .option("--out <dir>", "run folder (config.json, metrics.jsonl, checkpoint.safetensors)", "runs/stage1")
    .option("--steps <n>", "total optimiser steps (overrides train.steps)")
    .option("--resume", "continue from the run folder's checkpoint", false)
    .option("--data <source>", "synth (scenes generated on the fly) or a folder: one clip or a folder of clips (videos, image folders, DAVIS, LLFF, scene folders), read at the model's size", "synth")
    .option("--seed <k>", "run seed: initial weights and which training scenes each step draws (overrides train.seed)")
    .option("--pose-warmup <steps>", "ABLATION (uses pose labels): render half of each batch with the generator's true cameras for the first <steps> steps")
    .option("--set <key=value...>", "override config values, e.g. --set train.lr=3e-4 model.layers.camera=3", [])
    .action(async (flags: TrainFlags) => {
      const g = globals();
      const overrides = [...flags.set];
      if (flags.steps !== undefined) overrides.push(`train.steps=${flags.steps}`);
      if (flags.seed !== undefined) overrides.push(`train.seed=${flags.seed}`);
      if (flags.poseWarmup !== undefined) overrides.push(`train.poseWarmupSteps=${flags.poseWarmup}`);
      const run = resolveRunConfig(flags.preset, overrides);
      if (flags.data !== "synth") {
        if (!existsSync(flags.data)) throw new WildrayzerError(`--data ${flags.data}: no such file or folder (use synth, or a folder of footage)`);
        run.dataDir = resolve(flags.data);
      }
      const engine = await startEngine({ device: g.device });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      if (!g.quiet) {
        out(`engine: ${engine.device}, ${engine.threads} threads`);
        out(`config: ${JSON.stringify(run)}`);
      }
      const progress = createProgress({ label: "train", total: run.train.steps, quiet: g.quiet });
      const result = await trainStage1({
        run,
        outDir: flags.out,
        resume: flags.resume,
        onProgress: (p) => {
          const eta = formatDuration(p.msPerStep * (p.steps - p.step));
          progress.update(p.step, `loss ${p.loss.toFixed(4)} (${(-10 * Math.log10(p.loss)).toFixed(2)} dB) lr ${p.lr.toExponential(1)} ${(1000 / p.msPerStep).toFixed(2)} steps/s ETA ${eta}`);
          if (p.eval && !g.quiet) {
            const e = p.eval;
            out(
              `eval @${p.step}: PSNR ${e.psnr.model.toFixed(2)} dB (nearest input ${e.psnr.nearestInput.toFixed(2)}, mean of inputs ${e.psnr.meanOfInputs.toFixed(2)}, identity cameras ${e.psnr.identityCameras.toFixed(2)}); rotation error ${e.rotationErrorDeg.model.toFixed(2)}° (identity ${e.rotationErrorDeg.identity.toFixed(2)}°)`,
            );
          }
        },
      });
      progress.stop(`${result.steps} steps, last loss ${result.lastLoss.toFixed(4)}, ${Math.round(result.msPerStep)} ms/step`);
      if (result.resumedFrom !== null) out(`resumed from step ${result.resumedFrom}`);
      out(`checkpoint: ${result.checkpoint} (step ${result.steps}, ${formatDuration(result.msPerStep * Math.max(0, result.steps - (result.resumedFrom ?? 0)))})`);
    });
}
