/**
 * `wildrayzer eval --ckpt C`: held-out evaluation of a stage-1 checkpoint (src/eval/evaluate.ts): PSNR against
 * the nearest-input and mean-of-inputs baselines, the identity- and true-camera diagnostics, the blend ceilings,
 * and rotation error against predicting no rotation. Data: the checkpoint's synthetic scenes from held-out seeds
 * (`--data synth`, default; `--path` picks another camera-path family, e.g. the look-around `jitter` paths whose
 * poses the view index cannot predict), given seeds (`--data synth:A..B`), or real footage (`--data DIR`: one clip
 * or a folder of clips, cut into windows of the model's views with the inputs at the window ends, as in
 * training). `--json [FILE]` for scripts.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { startEngine } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { dispose } from "../engine/params.ts";
import { HELD_OUT_SEED_START, SynthConfigSchema, type SynthConfig } from "../data/config.ts";
import type { Clip } from "../data/clip.ts";
import { readClips } from "../data/readers/index.ts";
import { clipSamples as windowSamples } from "../data/sampling.ts";
import { evaluateStage1, type EvalOptions, type EvalReport, type TokenMaskSource } from "../eval/evaluate.ts";
import { loadMobilenetV2 } from "../features/mobilenetV2.ts";
import { masksByDefault } from "../pipeline/maskedInputs.ts";
import { Option } from "commander";
import type { ModelConfig } from "../model/config.ts";
import { loadAnyModel } from "../model/officialFile.ts";
import { addOfficialOptions, officialOptionsFrom, type OfficialFlags } from "./officialOptions.ts";
import { addClipOptions, clipOptionsFrom, type ClipFlags } from "./clipOptions.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress } from "./progress.ts";
import { pickRuntime, runtimeOption } from "./runtime.ts";
import type { Runtime } from "../pipeline/onnxForward.ts";

type EvalFlags = ClipFlags &
  OfficialFlags & { ckpt: string; scenes: string; json: boolean | string; data: string; path?: string; inputs?: string; targets?: string; runtime?: Runtime; tokenMasks?: TokenMaskSource; movers?: string };

/** `synth`, `synth:A..B` or `synth:A..` (with `scenes` seeds from A): the seeds; null for anything else (a folder). */
export function parseSynthSpec(spec: string, scenes: number): number[] | null {
  if (spec === "synth") return Array.from({ length: scenes }, (_, i) => HELD_OUT_SEED_START + i);
  if (!spec.startsWith("synth:")) return null;
  const m = /^synth:(\d+)\.\.(\d+)?$/.exec(spec);
  if (!m) throw new WildrayzerError(`--data ${spec}: expected synth, synth:FIRST..LAST or synth:FIRST.. (seeds, e.g. synth:1000000000..1000000063)`);
  const first = Number(m[1]);
  const last = m[2] === undefined ? first + scenes - 1 : Number(m[2]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) throw new WildrayzerError(`--data ${spec}: the last seed must be ≥ the first`);
  if (last - first >= 100_000) throw new WildrayzerError(`--data ${spec}: at most 100000 seeds`);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** Reads `dir` (one clip or a folder of clips) at the checkpoint's size. */
async function readEvalClips(dir: string, flags: ClipFlags, size: number): Promise<Clip[]> {
  if (!existsSync(dir)) throw new WildrayzerError(`--data ${dir}: no such file or folder (use synth, synth:A..B or a folder of footage)`);
  const opts = clipOptionsFrom(flags, size);
  if (opts.size !== size) throw new WildrayzerError(`--size ${opts.size}: this checkpoint works at ${size}×${size}; leave --size out`);
  return readClips(dir, opts);
}

/** The evaluation samples of real clips: windows of the model's views, inputs at the ends (src/data/sampling.ts). */
export function clipSamples(clips: readonly Clip[], model: ModelConfig): NonNullable<EvalOptions["samples"]> {
  for (const clip of clips) {
    if (clip.frames.length < model.views)
      throw new WildrayzerError(`${clip.source}: ${clip.frames.length} frames, the model needs at least ${model.views} (${model.inputViews} inputs + ${model.views - model.inputViews} targets)`);
  }
  return windowSamples(clips, model.views);
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new WildrayzerError(`--${name} ${v}: expected an integer ≥ 1`);
  return n;
}

export function registerEval(program: Command, globals: () => GlobalOptions): void {
  const cmd = program
    .command("eval")
    .description("evaluate a checkpoint against simple baselines: held-out synthetic scenes (default) or real footage")
    .requiredOption("--ckpt <file>", "a checkpoint written by `wildrayzer train`, a model file (models/small.safetensors), or official weights (.pt)")
    .option("--data <spec>", "synth (held-out seeds), synth:FIRST..LAST (given seeds), or a folder: one clip or a folder of clips", "synth")
    .option("--scenes <n>", "synthetic scenes to evaluate (synth and synth:FIRST..)", "64")
    .option("--path <kind>", "synthetic camera paths: walk, pan, jitter (look-around: the view index says nothing), orbit or mixed; default: the checkpoint's")
    .option("--inputs <k>", "input views per sample (default: the model's; more inputs leave fewer of the model's views as targets)")
    .addOption(
      new Option("--token-masks <source>", "dynamic input tokens replaced before the scene encoder: motion (the model's motion estimator; the default for a stage-3 model), oracle (ABLATION: the true masks), none (the default otherwise)")
        .choices(["motion", "oracle", "none"]),
    )
    .option("--movers <a,b>", "synthetic scenes: moving objects per scene, min,max (default: the checkpoint's data; 1,2 for dynamic scenes)")
    .option("--targets <n>", "target views per sample (default: all the model renders, views − inputs)")
    .option("--json [file]", "the report as one JSON object, on stdout or written to FILE", false)
    .addOption(runtimeOption());
  addOfficialOptions(addClipOptions(cmd)).action(async (flags: EvalFlags) => {
    const g = globals();
    await startEngine({ device: g.device });
    const { params, meta } = await loadAnyModel(flags.ckpt, {}, officialOptionsFrom(flags));
    let model = meta.model;
    let r: EvalReport;
    let what: string;
    let footage: FootageSources | undefined;
    let fx: Awaited<ReturnType<typeof loadMobilenetV2>> | undefined;
    try {
      const scenes = positiveInt("scenes", flags.scenes);
      if (flags.inputs !== undefined) {
        const k = positiveInt("inputs", flags.inputs);
        if (k >= model.views) throw new WildrayzerError(`--inputs ${k}: the model has ${model.views} views; at most ${model.views - 1} inputs leave a target`);
        model = { ...model, inputViews: k };
      }
      const room = model.views - model.inputViews;
      const targets = flags.targets === undefined ? undefined : positiveInt("targets", flags.targets);
      if (targets !== undefined && targets > room) throw new WildrayzerError(`--targets ${targets}: this model renders at most ${room} targets per sample (${model.views} views, ${model.inputViews} inputs)`);
      const seeds = parseSynthSpec(flags.data, scenes);
      let data: SynthConfig = meta.data;
      if (flags.movers !== undefined) {
        const m = /^(\d+),(\d+)$/.exec(flags.movers);
        const parsed = m ? SynthConfigSchema.safeParse({ ...data, movers: [Number(m[1]), Number(m[2])] }) : null;
        if (!parsed?.success) throw new WildrayzerError(`--movers ${flags.movers}: expected MIN,MAX moving objects per scene, e.g. 1,2`);
        data = parsed.data;
      }
      // a stage-3 model was trained with its estimator's masks on the input tokens; a stage-2 renderer never was
      const tokenMasks = flags.tokenMasks ?? (masksByDefault(meta.stage, params, model) ? "motion" : "none");
      if (tokenMasks === "motion" && !model.motion) throw new WildrayzerError(`--token-masks motion: ${flags.ckpt} has no motion estimator (a stage-1 RayZer); use oracle or none`);
      fx = await loadMobilenetV2();
      // the exported ONNX graph zeroes masked tokens; a learned noise token runs on jax
      const runtime = tokenMasks !== "none" && model.maskedTokens !== "zero" ? "jax" : pickRuntime(flags.runtime, g.device);
      const opts: EvalOptions = { scenes, targets, runtime, features: fx, tokenMasks };
      if (seeds) {
        if (flags.path !== undefined) {
          const parsed = SynthConfigSchema.safeParse({ ...data, path: flags.path });
          if (!parsed.success) throw new WildrayzerError(`--path ${flags.path}: expected one of ${SynthConfigSchema.shape.path.options.join(", ")}`);
          data = parsed.data;
        }
        opts.seeds = seeds;
        const seen = seeds.filter((s) => s < HELD_OUT_SEED_START).length;
        what = `${seeds.length} synthetic scenes (${data.path} paths, seeds ${seeds[0]}…${seeds.at(-1)}${seen ? `; ${seen} of them from the training range` : ", held out"})`;
      } else {
        if (flags.path !== undefined) throw new WildrayzerError(`--path ${flags.path}: only for synthetic data (--data synth…)`);
        const clips = await readEvalClips(flags.data, flags, model.imageSize);
        footage = {
          withMasks: clips.filter((c) => c.frames.some((f) => f.mask)).map((c) => c.name),
          withCameras: clips.filter((c) => c.frames.every((f) => f.camera)).map((c) => c.name),
        };
        opts.samples = clipSamples(clips, model);
        what = `${clips.length} clip${clips.length === 1 ? "" : "s"} from ${flags.data}, ${opts.samples.scenes.length} windows of ${model.views} frames`;
      }
      const progress = createProgress({ label: "eval", total: opts.samples?.scenes.length ?? seeds!.length, quiet: g.quiet || flags.json === true });
      opts.onProgress = (d) => progress.update(d);
      r = await evaluateStage1(params, model, data, opts);
      progress.stop();
    } finally {
      dispose(params);
      fx?.dispose();
    }
    const json = `${JSON.stringify({ step: meta.step, data: flags.data, inputViews: model.inputViews, ...r })}\n`;
    if (flags.json === true) {
      process.stdout.write(json);
      return;
    }
    if (typeof flags.json === "string") writeFileAtomic(flags.json, json);
    process.stdout.write(evalSummaryLines(r, `checkpoint step ${meta.step}; ${what}`, footage).join("\n") + "\n" + (typeof flags.json === "string" ? `report: ${flags.json}\n` : ""));
  });
}

/** Which footage clips the numbers that need masks or true cameras come from (undefined: synthetic scenes, all have both). */
export type FootageSources = { withMasks: string[]; withCameras: string[] };

/**
 * The lines `eval` prints: numbers and their differences, no verdicts. The diagnostics (identity cameras, true
 * cameras) are given as differences to the model; numbers that need masks or true cameras say which clips they come
 * from on footage, or that none of the clips has them.
 */
export function evalSummaryLines(r: EvalReport, head: string, footage?: FootageSources): string[] {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
  const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  const diff = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${a - b >= 0 ? "+" : "−"}${Math.abs(a - b).toFixed(2)} dB` : "n/a");
  const from = (names: string[] | undefined, what: string) =>
    names === undefined ? "" : names.length ? ` (from ${names.join(", ")}: the clips with ${what})` : "";
  const none = (names: string[] | undefined, what: string) => names !== undefined && names.length === 0 ? `not measured: no clip has ${what}` : undefined;
  const camNone = none(footage?.withCameras, "true cameras");
  const maskNone = none(footage?.withMasks, "motion masks");
  const camFrom = from(footage?.withCameras, "true cameras");
  return [
    `${head}, ${r.targets} target views`,
    `PSNR (dB)          model ${f(r.psnr.model)}   nearest input ${f(r.psnr.nearestInput)}   mean of inputs ${f(r.psnr.meanOfInputs)}`,
    `                   identity cameras ${f(r.psnr.identityCameras)} (model − identity cameras: ${diff(r.psnr.model, r.psnr.identityCameras)}; 0 would mean the predicted cameras change nothing)`,
    camNone
      ? `                   true cameras: ${camNone}`
      : `                   true cameras ${f(r.psnr.trueCameras)} (true cameras − model: ${diff(r.psnr.trueCameras, r.psnr.model)})${camFrom}`,
    ...(r.blendCeilings
      ? [`blend ceilings     cross-fade at the true frame time ${f(r.blendCeilings.crossFade)}   best mix per target ${f(r.blendCeilings.bestGlobalMix)} (oracles that know the frame times)`]
      : []),
    `SSIM               model ${f3(r.ssim.model)}  nearest input ${f3(r.ssim.nearestInput)}  mean of inputs ${f3(r.ssim.meanOfInputs)}`,
    maskNone
      ? `PSNR static px     ${maskNone}`
      : `PSNR static px     model ${f(r.psnrStatic.model)}   nearest input ${f(r.psnrStatic.nearestInput)}   mean of inputs ${f(r.psnrStatic.meanOfInputs)}${from(footage?.withMasks, "motion masks")}`,
    ...(r.psnrClean && Number.isFinite(r.psnrClean.model)
      ? [`PSNR vs clean      model ${f(r.psnrClean.model)}   nearest input ${f(r.psnrClean.nearestInput)}   mean of inputs ${f(r.psnrClean.meanOfInputs)} (whole image against the frame with the movers removed)`]
      : []),
    ...(r.ssimStatic && !maskNone ? [`SSIM static px     model ${f3(r.ssimStatic.model)}  nearest input ${f3(r.ssimStatic.nearestInput)}  mean of inputs ${f3(r.ssimStatic.meanOfInputs)}`] : []),
    ...(r.perceptualStatic && !maskNone
      ? [`perceptual static  model ${f3(r.perceptualStatic.model)}  nearest input ${f3(r.perceptualStatic.nearestInput)}  mean of inputs ${f3(r.perceptualStatic.meanOfInputs)} (bundled MobileNetV2 distance; lower is better)`]
      : []),
    ...(r.maskIoU && Number.isFinite(r.maskIoU.model) ? [`mask IoU           motion estimator ${f3(r.maskIoU.model)}   everything moving ${f3(r.maskIoU.allPixels)} (targets)`] : []),
    ...(r.tokenMasks ? [`token masks        ${r.tokenMasks.source}${r.tokenMasks.source === "none" ? "" : `: ${(100 * r.tokenMasks.dropped).toFixed(1)} % of the input tokens replaced`}`] : []),
    camNone ? `rotation error (°) ${camNone}` : `rotation error (°) model ${f(r.rotationErrorDeg.model)}   identity ${f(r.rotationErrorDeg.identity)}${camFrom}`,
    camNone ? `focal fx/W         model ${f3(r.focal.model)}   truth: ${camNone}` : `focal fx/W         model ${f3(r.focal.model)}   truth ${f3(r.focal.truth)}${camFrom}`,
  ];
}
