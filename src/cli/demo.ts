/**
 * `wildrayzer demo`: says what the full demo will do (the WildRayZer pipeline, stage by stage), starts the engine
 * and runs an engine check with known answers (a jitted matmul against a float64 host product, and the gradient
 * of a tiny QK-norm transformer block against central finite differences), then synthesises three small dynamic
 * scenes with different camera paths, writes them as scene folders (`--out`/scenes/scene_0000i, see
 * src/data/sceneIo.ts) and builds an HTML report of them (`--out`/report.html: observed and static frames, motion
 * masks, depth, camera paths). Prints `engine check: ok` with timings and `report: <path>`; fails with exit 1 when
 * the engine computes wrong numbers. Training and rendering arrive with the RayZer core.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Option, type Command } from "commander";
import { SYNTH_PRESETS, SynthConfigSchema, type SynthConfig } from "../data/config.ts";
import { writeScene } from "../data/sceneIo.ts";
import type { Scene } from "../data/scene.ts";
import { generateScene } from "../data/synth/index.ts";
import { startEngine } from "../engine/backend.ts";
import { checkBlockGradient, checkMatmul, type CheckResult } from "../engine/selfCheck.ts";
import { buildReport, escapeHtml, writeReport, REPORT_FILES_DIR, type ReportSection } from "../eval/report.ts";
import { maskDebugSections } from "../eval/maskReport.ts";
import type { WindowMasks } from "../pipeline/clipMasks.ts";
import { DEGRADATION_LEVELS, degradeStatic } from "../eval/pseudoMaskEval.ts";
import { meanIou, pseudoLabels } from "../pipeline/pseudoLabels.ts";
import { loadMobilenetV2, MOBILENET_TAPS } from "../features/mobilenetV2.ts";
import { evaluateStage1, predictHeldOut } from "../eval/evaluate.ts";
import { modelSection, type MetricsLine } from "../eval/modelReport.ts";
import { HELD_OUT_SEED_START } from "../data/config.ts";
import { dispose } from "../engine/params.ts";
import { DEFAULT_MODEL, DEFAULT_RAYZER_DYNAMIC, DEFAULT_WILDRAYZER, loadModel } from "../model/loadFile.ts";
import { compareArms, comparisonSection, type Arm } from "../eval/comparison.ts";
import { parseRunConfig } from "../train/checkpoint.ts";
import type { GlobalOptions } from "./globals.ts";
import { createProgress, formatDuration } from "./progress.ts";
import { sceneFolderName } from "./synth.ts";
import { pickRuntime } from "./runtime.ts";


const PIPELINE = [
  "What the demo does (the shipped small models, 32² at patch 8, trained here on 2 CPU cores):",
  "  1. synthesize small dynamic scenes (moving camera, moving objects) with known poses, motion masks and clean frames",
  "  2. camera estimator: images -> relative poses (6D rotation + translation) and shared intrinsics",
  "  3. scene encoder: input views + Pluecker ray tokens (dynamic tokens replaced) -> latent scene tokens",
  "  4. renderer: target-view rays + latent scene -> RGB; motion estimator: features + rays -> motion masks",
  "  5. the three training stages (static RayZer; motion estimator from pseudo-masks, renderer frozen; masked",
  "     reconstruction on dynamic scenes) and WildRayZer against RayZer on unseen dynamic scenes:",
  "     PSNR / SSIM on static pixels, PSNR against the clean frames, mask IoU",
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
    .description("check the array engine, evaluate the shipped model on unseen scenes, synthesize three dynamic scenes, write an HTML report")
    .option("--out <dir>", "output folder for the scenes and the report", join("out", "demo"))
    .option("--ckpt <file>", "the RayZer model to evaluate on static scenes (default: the shipped models/small.safetensors)")
    .addOption(new Option("--model <file>", "the old name of --ckpt").hideHelp())
    .option("--eval-scenes <n>", "held-out scenes for the model's metrics table", "32")
    .option("--wildrayzer <file>", "WildRayZer model for the dynamic-scene comparison (default: the shipped models/wildrayzer-small.safetensors, unless --ckpt is given)")
    .option("--rayzer <file>", "RayZer model it is compared with (default: the shipped models/rayzer-dynamic-small.safetensors)")
    .action(async (opts: { out: string; ckpt?: string; model?: string; evalScenes: string; wildrayzer?: string; rayzer?: string }) => {
      const ckpt = opts.ckpt ?? opts.model;
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
        // named after its folder, so the report, the console and out/demo/scenes agree
        const scene = { ...generateScene(seed, cfg), name: sceneFolderName(i) };
        await writeScene(join(opts.out, "scenes", sceneFolderName(i)), scene, { generator: { seed, config: cfg } });
        scenes.push({ scene, caption: `seed ${seed}, ${path} camera path, ${cfg.movers[0]}-${cfg.movers[1]} movers, ${cfg.texture} textures` });
      }
      progress.update(DEMO_SCENES.length);
      progress.stop(`${DEMO_SCENES.length} scenes written to ${join(opts.out, "scenes")}`);
      const sections: ReportSection[] = [];
      const summary: string[] = ["engine check ok"];
      const modelFile = ckpt ?? (existsSync(DEFAULT_MODEL) ? DEFAULT_MODEL : undefined);
      const evalScenes = Math.max(1, Number.parseInt(opts.evalScenes, 10) || 32);
      if (modelFile) sections.push(await modelResults(modelFile, evalScenes, g, out, summary));
      else if (!g.quiet) out("no trained model found (models/small.safetensors); `npm run train:default` trains and writes it");
      const wildFile = opts.wildrayzer ?? (!ckpt && existsSync(DEFAULT_WILDRAYZER) ? DEFAULT_WILDRAYZER : undefined);
      const rayzerFile = opts.rayzer ?? (existsSync(DEFAULT_RAYZER_DYNAMIC) ? DEFAULT_RAYZER_DYNAMIC : DEFAULT_MODEL);
      if (wildFile) sections.push(await dynamicResults(rayzerFile, wildFile, Math.min(evalScenes, 16), g, out, summary));
      sections.push(...(await pseudoMaskResults(scenes.map((s) => s.scene), out, summary)));
      const report = await buildReport({
        sections,
        title: "WildRayZer demo: synthetic dynamic scenes",
        verdict: `${summary.join("; ")}; ${formatDuration(performance.now() - t0)}.`,
        intro:
          "Below, in order: the shipped RayZer on unseen static scenes (metrics, training curve, renders); WildRayZer against RayZer on unseen " +
          "dynamic scenes (renders beside the clean truth, with the motion masks); the pseudo-mask pipeline on the demo scenes with a stand-in " +
          "renderer, every stage of the first scene; and last the three demo scenes themselves (observed frames, the same views without the " +
          "movers, the true motion masks, depth and the camera path), written to scenes/ beside this page.",
        scenes,
      });
      const page = writeReport(opts.out, report);
      if (!g.quiet) out(`scenes: ${scenes.map((_, i) => sceneFolderName(i)).join(", ")} in ${join(opts.out, "scenes")} (${formatDuration(performance.now() - t0)})`);
      out(`report: ${page}`);
    });
}

/**
 * Pseudo-motion masks (src/masks, our settings) on the demo scenes with the stand-in renderer: each frame's true
 * static view, moderately degraded (eval/pseudoMaskEval.ts). Prints the mIoU per scene; the report shows them and
 * every stage of the first scene.
 */
async function pseudoMaskResults(scenes: Scene[], out: (line: string) => void, summary: string[]): Promise<ReportSection[]> {
  const t0 = performance.now();
  const fx = await loadMobilenetV2();
  const tap = { name: MOBILENET_TAPS.stride4, stride: 4 };
  const level = DEGRADATION_LEVELS[2];
  const mious: number[] = [];
  let first: WindowMasks | undefined;
  for (const [i, scene] of scenes.entries()) {
    const { h, w } = scene;
    const targets = scene.frames.map((f) => f.image);
    const renders = scene.frames.map((f, j) => degradeStatic(f.static ?? f.image, h, w, level, 7919 * (i + 1) + j));
    const result = await pseudoLabels(fx, tap, targets, renders, h, w);
    mious.push(meanIou(result.masks, scene.frames.map((f) => f.mask ?? new Uint8Array(h * w))));
    first ??= { window: { inputs: [], targets: scene.frames.map((_, j) => j) }, renders, result };
  }
  fx.dispose();
  const list = scenes.map((_, i) => `${sceneFolderName(i)} ${mious[i]!.toFixed(2)}`).join(", ");
  out(`pseudo-masks (stand-in renderer, ${level.name} degradation): mIoU ${list} (${formatDuration(performance.now() - t0)})`);
  summary.push(`pseudo-masks from a stand-in renderer (the true static views, ${level.name}ly degraded): mIoU ${mious.map((m) => m.toFixed(2)).join(" / ")}`);
  const intro = {
    html: [
      `<section><h2>Pseudo-motion masks (stand-in renderer)</h2>`,
      `<p class="caption">What a static renderer cannot explain is motion. Here the renderer is a stand-in: each frame's true static view, ` +
        `${level.name}ly degraded (blur σ ${level.blur} px, noise ${level.noise}, shift ${level.shift} px, colour ±${level.colour * 100} %) like a renderer still learning. ` +
        `mIoU against the true masks: ${escapeHtml(list)}. Every stage of the first scene below; RESULTS.md has the ablation on 50 held-out scenes.</p></section>`,
    ].join(""),
    images: new Map<string, Uint8Array>(),
  };
  const stages = await maskDebugSections(scenes[0]!, [first!], `${REPORT_FILES_DIR}/pseudo_masks`, () => `Every stage, ${scenes[0]!.name}`, `the stand-in: the true static view, ${level.name}ly degraded`);
  return [intro, ...stages];
}

/** Runs the trained model on held-out scenes: prints the metrics table and returns the report section. */
async function modelResults(file: string, evalScenes: number, g: GlobalOptions, out: (line: string) => void, summary: string[]): Promise<ReportSection> {
  const { params, meta } = loadModel(file);
  const { model, data } = meta;
  const warmup = parseRunConfig(meta.run, file).train.poseWarmupSteps;
  const progress = createProgress({ label: "model eval", total: evalScenes, quiet: g.quiet });
  const t0 = performance.now();
  const runtime = pickRuntime(undefined, g.device);
  const report = await evaluateStage1(params, model, data, { scenes: evalScenes, runtime, onProgress: (d) => progress.update(d) });
  progress.stop();
  const predictions = await predictHeldOut(params, model, data, [0, 1, 2].map((i) => HELD_OUT_SEED_START + i), runtime);
  dispose(params);
  const f = (x: number) => x.toFixed(2);
  out(
    `model: ${file} (step ${meta.step}) on ${report.scenes} held-out scenes: PSNR ${f(report.psnr.model)} dB vs nearest input ${f(report.psnr.nearestInput)}, ` +
      `mean of inputs ${f(report.psnr.meanOfInputs)}; rotation error ${f(report.rotationErrorDeg.model)}° vs identity ${f(report.rotationErrorDeg.identity)}° (${formatDuration(performance.now() - t0)})`,
  );
  summary.push(`${basename(file)} on ${report.scenes} unseen static scenes: PSNR ${f(report.psnr.model)} dB (copy the nearest input ${f(report.psnr.nearestInput)}, mean of the inputs ${f(report.psnr.meanOfInputs)})`);
  // the model's training log: models/small.metrics.jsonl beside a model file, or a run folder's metrics.jsonl
  const logFile = [file.replace(/\.safetensors$/, ".metrics.jsonl"), join(dirname(file), "metrics.jsonl")].find((p) => existsSync(p));
  const metrics: MetricsLine[] = logFile
    ? readFileSync(logFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as MetricsLine)
    : [];
  return modelSection({
    title: `Trained model: ${model.imageSize}² RayZer, ${meta.step} steps, on held-out static scenes`,
    note:
      `Stage-1 RayZer (${meta.data.path} camera paths, ${meta.data.texture} textures) trained self-supervised` +
      (warmup > 0
        ? `, with the labelled pose warm-up ablation: for its first ${warmup} steps half of each batch was rendered with the generator's true cameras. `
        : " without pose labels. ") +
      "Targets are rendered from the cameras the model predicts. A model must beat both baselines to have learned anything.",
    report,
    metrics,
    predictions,
    inputViews: model.inputViews,
  });
}

/**
 * WildRayZer (its estimator's masks replacing input tokens) against RayZer on held-out dynamic scenes: prints the
 * table and returns the report section (the same targets from both beside the clean truth, with the masks).
 */
async function dynamicResults(rayzerFile: string, wildFile: string, scenes: number, g: GlobalOptions, out: (line: string) => void, summary: string[]): Promise<ReportSection> {
  const t0 = performance.now();
  const fx = await loadMobilenetV2();
  const rz = loadModel(rayzerFile);
  const wz = loadModel(wildFile);
  const arms: Arm[] = [
    { name: `RayZer (${basename(rayzerFile)})`, params: rz.params, model: rz.meta.model, tokenMasks: "none" },
    { name: `WildRayZer (${basename(wildFile)}, stage ${wz.meta.stage})`, params: wz.params, model: wz.meta.model, tokenMasks: wz.meta.stage === 3 ? "motion" : "none" },
  ];
  const data = SynthConfigSchema.parse({ ...wz.meta.data, movers: [1, 2] });
  const runtime = pickRuntime(undefined, g.device);
  const progress = createProgress({ label: "dynamic scenes", total: arms.length, quiet: g.quiet });
  const results = await compareArms(arms, data, { scenes, inputs: [wz.meta.model.inputViews], features: fx, runtime, onProgress: (d) => progress.update(d) });
  progress.stop();
  const f = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : "n/a");
  const base = results[0]!.report;
  out(`dynamic scenes (${scenes} held out, 1-2 movers), static-pixel PSNR: nearest input ${f(base.psnrStatic.nearestInput)}, mean of inputs ${f(base.psnrStatic.meanOfInputs)}`);
  for (const r of results) out(`  ${r.arm}: ${f(r.report.psnrStatic.model)} dB static px, ${f(r.report.psnrClean?.model)} dB vs clean frames${r.tokenMasks === "none" ? "" : `, ${(100 * (r.report.tokenMasks?.dropped ?? 0)).toFixed(0)} % of input tokens replaced`}`);
  summary.push(
    `on ${scenes} unseen dynamic scenes, static-pixel PSNR: ${results.map((r) => `${r.arm.replace(/ \(.*$/, "")} ${f(r.report.psnrStatic.model)} dB`).join(", ")} (mean of the inputs ${f(base.psnrStatic.meanOfInputs)})`,
  );
  const section = await comparisonSection({
    title: "WildRayZer vs RayZer on unseen dynamic scenes",
    note:
      `Held-out dynamic scenes (1–2 movers). RayZer renders from every input token; WildRayZer replaces the input tokens its motion estimator calls dynamic ` +
      `(tinted below) before the scene encoder. Static-pixel PSNR scores the pixels the true mask calls static; "PSNR vs clean" scores the whole image against the frame with the movers removed. ` +
      `RESULTS.md has the full comparison (more arms, 2–4 input views). (${formatDuration(performance.now() - t0)})`,
    results,
    arms,
    data,
    seeds: [0, 1, 2].map((i) => HELD_OUT_SEED_START + i),
    features: fx,
    runtime,
  });
  dispose([rz.params, wz.params]);
  fx.dispose();
  return section;
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
