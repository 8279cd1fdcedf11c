/**
 * `wildrayzer train`: stage 1 (RayZer, self-supervised) or stage 2 (the motion estimator on a frozen stage-1 model,
 * from pseudo-masks) on the embedded synthetic scenes (generated on the fly) or footage, in a run folder holding
 * config.json, metrics.jsonl and checkpoint.safetensors; the stage's banner is printed and stored. `--resume` continues exactly where a
 * killed run stopped. The resolved config is printed at the start; progress is a bar (or one line per log
 * interval when stderr is not a terminal).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { WildrayzerError } from "../engine/errors.ts";
import { startEngine } from "../engine/backend.ts";
import { resolveRunConfig, resolveStage2Run } from "../train/config.ts";
import { trainStage1, trainStage2 } from "../train/loop.ts";
import { readModelFile } from "../model/loadFile.ts";
import { MASK_TAP_CHANNELS } from "../pipeline/pseudoLabels.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress, formatDuration } from "./progress.ts";

type TrainFlags = {
  stage: string;
  from?: string;
  labels: "pseudo" | "oracle";
  features: boolean;
  preset: string;
  out?: string;
  steps?: string;
  resume: boolean;
  set: string[];
  poseWarmup?: string;
  seed?: string;
  data: string;
};

export function registerTrain(program: Command, globals: () => GlobalOptions): void {
  program
    .command("train")
    .description("train a stage: 1 = the RayZer core (self-supervised), 2 = the motion estimator on a frozen stage-1 model (pseudo-masks)")
    .addOption(new Option("--stage <n>", "1: RayZer pretraining; 2: motion-estimator distillation (needs --from)").choices(["1", "2"]).default("1"))
    .option("--from <file>", "stage 2: the stage-1 checkpoint or model file whose RayZer is frozen")
    .addOption(new Option("--labels <kind>", "stage 2: pseudo (the method) or oracle (ABLATION: the generator's true masks)").choices(["pseudo", "oracle"]).default("pseudo"))
    .option("--no-features", "stage 2, ABLATION: the motion estimator gets zeros instead of the frozen backbone's features")
    .option("--preset <name>", "stage 1 run preset: tiny (tests) or small (the CPU demo model)", "small")
    .option("--out <dir>", "run folder (config.json, metrics.jsonl, checkpoint.safetensors)")
    .option("--steps <n>", "total optimiser steps (overrides train.steps)")
    .option("--resume", "continue from the run folder's checkpoint", false)
    .option("--data <source>", "synth (scenes generated on the fly) or a folder: one clip or a folder of clips (videos, image folders, DAVIS, LLFF, scene folders), read at the model's size", "synth")
    .option("--seed <k>", "run seed: initial weights and which training scenes each step draws (overrides train.seed)")
    .option("--pose-warmup <steps>", "stage 1, ABLATION (uses pose labels): render half of each batch with the generator's true cameras for the first <steps> steps")
    .option("--set <key=value...>", "override config values, e.g. --set train.lr=3e-4 model.layers.camera=3", [])
    .action(async (flags: TrainFlags) => {
      const g = globals();
      const stage = Number(flags.stage);
      const overrides = [...flags.set];
      if (flags.steps !== undefined) overrides.push(`train.steps=${flags.steps}`);
      if (flags.seed !== undefined) overrides.push(`train.seed=${flags.seed}`);
      if (flags.poseWarmup !== undefined) {
        if (stage !== 1) throw new WildrayzerError("--pose-warmup: a stage-1 option");
        overrides.push(`train.poseWarmupSteps=${flags.poseWarmup}`);
      }
      let run;
      if (stage === 2) {
        if (!flags.from) throw new WildrayzerError("train --stage 2: say which stage-1 model to freeze with --from FILE (e.g. --from models/small.safetensors)");
        const from = resolve(flags.from);
        const { meta } = readModelFile(from);
        run = resolveStage2Run(from, meta.model, meta.data, { labels: flags.labels, features: flags.features, featureChannels: MASK_TAP_CHANNELS, overrides });
      } else {
        if (flags.from) throw new WildrayzerError("--from: a stage-2 option (stage 1 trains from scratch; use --resume to continue a run)");
        run = resolveRunConfig(flags.preset, overrides);
      }
      if (flags.data !== "synth") {
        if (!existsSync(flags.data)) throw new WildrayzerError(`--data ${flags.data}: no such file or folder (use synth, or a folder of footage)`);
        run.dataDir = resolve(flags.data);
      }
      const outDir = flags.out ?? (stage === 2 ? "runs/stage2" : "runs/stage1");
      const engine = await startEngine({ device: g.device });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      if (!g.quiet) {
        out(`engine: ${engine.device}, ${engine.threads} threads`);
        out(`config: ${JSON.stringify(run)}`);
      }
      const progress = createProgress({ label: `train stage ${stage}`, total: run.train.steps, quiet: g.quiet });
      const train = stage === 2 ? trainStage2 : trainStage1;
      const result = await train({
        run,
        outDir,
        resume: flags.resume,
        onBanner: (banner) => {
          if (!g.quiet) out(banner);
        },
        onProgress: (p) => {
          const eta = formatDuration(p.msPerStep * (p.steps - p.step));
          const phases = p.phases ? ` (${Object.entries(p.phases).map(([k, v]) => `${k} ${v} ms`).join(", ")})` : "";
          const what = stage === 2 ? `BCE ${p.loss.toFixed(4)}` : `loss ${p.loss.toFixed(4)} (${(-10 * Math.log10(p.loss)).toFixed(2)} dB)`;
          progress.update(p.step, `${what} lr ${p.lr.toExponential(1)} ${(1000 / p.msPerStep).toFixed(2)} steps/s${phases} ETA ${eta}`);
          if (p.eval && !g.quiet) {
            const e = p.eval;
            out(
              `eval @${p.step}: PSNR ${e.psnr.model.toFixed(2)} dB (nearest input ${e.psnr.nearestInput.toFixed(2)}, mean of inputs ${e.psnr.meanOfInputs.toFixed(2)}, identity cameras ${e.psnr.identityCameras.toFixed(2)}); rotation error ${e.rotationErrorDeg.model.toFixed(2)}° (identity ${e.rotationErrorDeg.identity.toFixed(2)}°)`,
            );
          }
          if (p.maskEval && !g.quiet) out(`eval @${p.step}: motion-estimator mask IoU ${p.maskEval.maskIou.toFixed(3)} on ${p.maskEval.frames} held-out views`);
        },
      });
      progress.stop(`${result.steps} steps, last loss ${Number.isFinite(result.lastLoss) ? result.lastLoss.toFixed(4) : "n/a (nothing left to train)"}, ${Math.round(result.msPerStep)} ms/step`);
      if (result.resumedFrom !== null) out(`resumed from step ${result.resumedFrom}`);
      out(`checkpoint: ${result.checkpoint} (step ${result.steps}, ${formatDuration(result.msPerStep * Math.max(0, result.steps - (result.resumedFrom ?? 0)))})`);
    });
}
