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
import { resolveRunConfig, resolveStage2Run, resolveStage3Run, MASKED_DEFAULTS } from "../train/config.ts";
import { trainStage1, trainStage2, trainStage3, type TrainProgress } from "../train/loop.ts";
import { trainMethod } from "../train/method.ts";
import { readModelFile } from "../model/loadFile.ts";
import { MASK_TAP_CHANNELS } from "../pipeline/pseudoLabels.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress, formatDuration } from "./progress.ts";

type TrainFlags = {
  stage: string;
  method?: string;
  masks: "motion" | "oracle" | "none";
  copyPaste?: string;
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
    .description(
      "train a stage on synthetic scenes or footage (--data): 1 = the RayZer core (self-supervised), 2 = the motion estimator on a frozen stage-1 model (pseudo-masks), " +
        "3 = masked reconstruction on dynamic scenes (motion estimator frozen); --method wildrayzer runs 1 → 2 → 3",
    )
    .addOption(new Option("--stage <n>", "1: RayZer pretraining; 2: motion-estimator distillation (needs --from); 3: masked reconstruction (needs --from)").choices(["1", "2", "3"]).default("1"))
    .addOption(new Option("--method <name>", "run every stage in one resumable command, in --out/stage1, stage2, stage3 (each from the previous one's checkpoint)").choices(["wildrayzer"]))
    .option("--from <file>", "stage 2: the stage-1 model whose RayZer is frozen; stage 3: the stage-2 model to continue (or any model with --masks oracle|none)")
    .addOption(
      new Option("--masks <source>", "stage 3: where the dynamic maps come from: motion (the frozen motion estimator), oracle (ABLATION: the generator's true masks), none (copy-paste masks only)")
        .choices(["motion", "oracle", "none"])
        .default(MASKED_DEFAULTS.masks),
    )
    .option("--copy-paste <p>", `stage 3: probability that a sample gets pasted movers (0: off; default ${MASKED_DEFAULTS.copyPaste})`)
    .addOption(new Option("--labels <kind>", "stage 2: pseudo (the method) or oracle (ABLATION: the generator's true masks)").choices(["pseudo", "oracle"]).default("pseudo"))
    .option("--no-features", "stage 2, ABLATION: the motion estimator gets zeros instead of the frozen backbone's features")
    .option("--preset <name>", "stage 1 run preset: tiny (tests) or small (the CPU demo model)", "small")
    .option("--out <dir>", "run folder (config.json, metrics.jsonl, checkpoint.safetensors)")
    .option("--steps <n>", "total optimiser steps (overrides train.steps); with --resume, a larger total extends the run (the learning-rate schedule is recomputed for the new total); with --method, three totals A,B,C")
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
      if (flags.method) {
        await runMethod(flags, g);
        return;
      }
      if (stage !== 3 && flags.copyPaste !== undefined) throw new WildrayzerError("--copy-paste: a stage-3 option");
      if (stage !== 3 && flags.masks !== MASKED_DEFAULTS.masks) throw new WildrayzerError("--masks: a stage-3 option");
      let run;
      if (stage === 2 || stage === 3) {
        if (!flags.from)
          throw new WildrayzerError(
            stage === 2
              ? "train --stage 2: say which stage-1 model to freeze with --from FILE (e.g. --from models/small.safetensors)"
              : "train --stage 3: say which stage-2 model to continue with --from FILE (e.g. --from runs/stage2/checkpoint.safetensors)",
          );
        const from = resolve(flags.from);
        const { meta } = readModelFile(from);
        if (stage === 2) run = resolveStage2Run(from, meta.model, meta.data, { labels: flags.labels, features: flags.features, featureChannels: MASK_TAP_CHANNELS, overrides });
        else run = resolveStage3Run(from, meta.model, meta.data, { masks: flags.masks, ...(flags.copyPaste !== undefined ? { copyPaste: probability("copy-paste", flags.copyPaste) } : {}) }, overrides);
      } else {
        if (flags.from) throw new WildrayzerError("--from: a stage-2 and stage-3 option (stage 1 trains from scratch; use --resume to continue a run)");
        run = resolveRunConfig(flags.preset, overrides);
      }
      if (flags.data !== "synth") {
        if (!existsSync(flags.data)) throw new WildrayzerError(`--data ${flags.data}: no such file or folder (use synth, or a folder of footage)`);
        run.dataDir = resolve(flags.data);
      }
      const outDir = flags.out ?? `runs/stage${stage}`;
      const engine = await startEngine({ device: g.device });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      if (!g.quiet) {
        out(`engine: ${engine.device}, ${engine.threads} threads`);
        out(`config: ${JSON.stringify(run)}`);
      }
      const progress = createProgress({ label: `train stage ${stage}`, total: run.train.steps, quiet: g.quiet });
      const train = stage === 3 ? trainStage3 : stage === 2 ? trainStage2 : trainStage1;
      const result = await train({
        run,
        outDir,
        resume: flags.resume,
        onBanner: (banner) => {
          if (!g.quiet) out(banner);
        },
        onProgress: (p) => reportProgress(p, stage as 1 | 2 | 3, progress, g.quiet, out),
      });
      if (result.resumedFrom === result.steps) {
        progress.stop(`nothing to train: the run is already at step ${result.steps} of ${result.steps}`);
        out(`checkpoint: ${result.checkpoint} (step ${result.steps}); to train longer, resume with --steps above ${result.steps}`);
        return;
      }
      progress.stop(`${result.steps} steps, last loss ${result.lastLoss.toFixed(4)}, ${Math.round(result.msPerStep)} ms/step`);
      if (result.resumedFrom !== null) out(`resumed from step ${result.resumedFrom}`);
      out(`checkpoint: ${result.checkpoint} (step ${result.steps}, ${formatDuration(result.msPerStep * Math.max(0, result.steps - (result.resumedFrom ?? 0)))})`);
    });
}

/** One progress update: the bar's text, and the evaluation lines when a stage evaluated. */
function reportProgress(p: TrainProgress, stage: 1 | 2 | 3, progress: ReturnType<typeof createProgress>, quiet: boolean, out: (line: string) => void): void {
  const eta = formatDuration(p.msPerStep * (p.steps - p.step));
  const phases = p.phases ? ` (${Object.entries(p.phases).map(([k, v]) => `${k} ${v}${k.endsWith("Pct") ? "" : " ms"}`).join(", ")})` : "";
  const what = stage === 2 ? `BCE ${p.loss.toFixed(4)}` : `loss ${p.loss.toFixed(4)} (${(-10 * Math.log10(p.loss)).toFixed(2)} dB)`;
  progress.update(p.step, `${what} lr ${p.lr.toExponential(1)} ${(1000 / p.msPerStep).toFixed(2)} steps/s${phases} ETA ${eta}`);
  if (p.eval && !quiet) {
    const e = p.eval;
    out(
      `eval @${p.step}: PSNR ${e.psnr.model.toFixed(2)} dB (nearest input ${e.psnr.nearestInput.toFixed(2)}, mean of inputs ${e.psnr.meanOfInputs.toFixed(2)}, identity cameras ${e.psnr.identityCameras.toFixed(2)}); rotation error ${e.rotationErrorDeg.model.toFixed(2)}° (identity ${e.rotationErrorDeg.identity.toFixed(2)}°)` +
        (stage === 3 ? `; static-pixel PSNR ${e.psnrStatic.model.toFixed(2)} dB` : ""),
    );
  }
  if (p.maskEval && !quiet) out(`eval @${p.step}: motion-estimator mask IoU ${p.maskEval.maskIou.toFixed(3)} on ${p.maskEval.frames} held-out views`);
}

function probability(name: string, v: string): number {
  const p = Number(v);
  if (!Number.isFinite(p) || p < 0 || p > 1) throw new WildrayzerError(`--${name} ${v}: expected a probability in [0, 1]`);
  return p;
}

/** `train --method wildrayzer`: the three stages in --out/stage1…3 (src/train/method.ts). */
async function runMethod(flags: TrainFlags, g: GlobalOptions): Promise<void> {
  if (flags.stage !== "1") throw new WildrayzerError("--method wildrayzer runs every stage: leave --stage out");
  if (flags.from) throw new WildrayzerError("--method wildrayzer trains from scratch: leave --from out (stage 2 and 3 start from the previous stage)");
  if (flags.data !== "synth") throw new WildrayzerError("--method wildrayzer: trains on the generated scenes only (stage 3 needs dynamic scenes); use --stage with --data for footage");
  if (flags.poseWarmup !== undefined || flags.labels !== "pseudo" || !flags.features || flags.masks !== MASKED_DEFAULTS.masks || flags.copyPaste !== undefined)
    throw new WildrayzerError("--method wildrayzer runs the method as defined; ablation flags (--pose-warmup, --labels, --no-features, --masks, --copy-paste) are for single stages");
  let steps: [number, number, number] | undefined;
  if (flags.steps !== undefined) {
    const parts = flags.steps.split(",").map(Number);
    if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 1)) throw new WildrayzerError(`--steps ${flags.steps}: with --method, three step totals A,B,C (stages 1, 2, 3), e.g. --steps 3600,1200,600`);
    steps = parts as [number, number, number];
  }
  const overrides = [...flags.set, ...(flags.seed !== undefined ? [`train.seed=${flags.seed}`] : [])];
  const outDir = flags.out ?? "runs/wildrayzer";
  const engine = await startEngine({ device: g.device });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (!g.quiet) out(`engine: ${engine.device}, ${engine.threads} threads; three stages in ${outDir}/stage1, stage2, stage3`);
  let progress: ReturnType<typeof createProgress> | null = null;
  const result = await trainMethod({
    preset: flags.preset,
    outDir,
    resume: flags.resume,
    overrides,
    ...(steps ? { steps } : {}),
    onSkip: (s, ckpt) => out(`stage ${s}: already complete (${ckpt}); skipped`),
    onStart: (s, run) => {
      if (!g.quiet) out(`stage ${s} config: ${JSON.stringify(run)}`);
      progress = createProgress({ label: `train stage ${s}`, total: run.train.steps, quiet: g.quiet });
    },
    onBanner: (_s, banner) => {
      if (!g.quiet) out(banner);
    },
    onProgress: (s, p) => {
      if (progress) reportProgress(p, s, progress, g.quiet, out);
      if (p.step === p.steps) progress?.stop(`stage ${s}: ${p.steps} steps, last loss ${p.loss.toFixed(4)}`);
    },
  });
  out(`checkpoint: ${result.checkpoint} (the stage-3 WildRayZer)`);
}
