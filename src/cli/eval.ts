/**
 * `wildrayzer eval --ckpt C`: held-out evaluation of a stage-1 checkpoint (src/eval/evaluate.ts) on the
 * checkpoint's own data and model config: PSNR against the nearest-input and mean-of-inputs baselines, the
 * identity-camera diagnostic, and rotation error against predicting no rotation. `--json` for scripts.
 */
import type { Command } from "commander";
import { startEngine } from "../engine/backend.ts";
import { dispose } from "../engine/params.ts";
import { evaluateStage1 } from "../eval/evaluate.ts";
import { loadModel } from "../train/checkpoint.ts";
import type { GlobalOptions } from "./main.ts";
import { createProgress } from "./progress.ts";

export function registerEval(program: Command, globals: () => GlobalOptions): void {
  program
    .command("eval")
    .description("evaluate a checkpoint on held-out synthetic scenes against simple baselines")
    .requiredOption("--ckpt <file>", "a checkpoint written by `wildrayzer train`, or a model file (models/small.safetensors)")
    .option("--scenes <n>", "held-out scenes to evaluate", "64")
    .option("--json", "print the report as one JSON object", false)
    .action(async (flags: { ckpt: string; scenes: string; json: boolean }) => {
      const g = globals();
      await startEngine({ device: g.device });
      const { params, meta } = loadModel(flags.ckpt);
      const scenes = Math.max(1, Number.parseInt(flags.scenes, 10) || 1);
      const progress = createProgress({ label: "eval", total: scenes, quiet: g.quiet || flags.json });
      const r = await evaluateStage1(params, meta.run.model, meta.run.data, { scenes, onProgress: (d) => progress.update(d) });
      progress.stop();
      dispose(params);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ step: meta.step, ...r })}\n`);
        return;
      }
      const f = (x: number) => x.toFixed(2);
      process.stdout.write(
        [
          `checkpoint step ${meta.step}; ${r.scenes} held-out scenes, ${r.targets} target views`,
          `PSNR (dB)          model ${f(r.psnr.model)}   nearest input ${f(r.psnr.nearestInput)}   mean of inputs ${f(r.psnr.meanOfInputs)}`,
          `                   identity cameras ${f(r.psnr.identityCameras)} (diagnostic: equal to the model = cameras unused)`,
          `                   true cameras ${f(r.psnr.trueCameras)} (diagnostic: far above the model = the camera estimator is the bottleneck)`,
          ...(r.blendCeilings
            ? [`blend ceilings     cross-fade at the true frame time ${f(r.blendCeilings.crossFade)}   best mix per target ${f(r.blendCeilings.bestGlobalMix)} (oracles: above them a model moves content)`]
            : []),
          `SSIM               model ${r.ssim.model.toFixed(3)}  nearest input ${r.ssim.nearestInput.toFixed(3)}  mean of inputs ${r.ssim.meanOfInputs.toFixed(3)}`,
          `PSNR static px     model ${f(r.psnrStatic.model)}   nearest input ${f(r.psnrStatic.nearestInput)}   mean of inputs ${f(r.psnrStatic.meanOfInputs)}`,
          `rotation error (°) model ${f(r.rotationErrorDeg.model)}   identity ${f(r.rotationErrorDeg.identity)}`,
          `focal fx/W         model ${r.focal.model.toFixed(3)}   truth ${r.focal.truth.toFixed(3)}`,
        ].join("\n") + "\n",
      );
    });
}
