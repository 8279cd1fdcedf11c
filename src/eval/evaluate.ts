/**
 * Held-out evaluation of a stage-1 RayZer (docs/METHOD.md ("Small-model training") protocol): on scenes from the held-out seed range (never
 * used in training), render every target view from the inputs and compare with
 *  - two baselines a model must beat: the nearest input frame (by frame index) and the mean of the inputs;
 *  - a diagnostic: the same model with identity cameras for every view (if it scores the same, the cameras are
 *    unused);
 * and report the predicted cameras' rotation error (relative to the canonical view) next to the identity baseline
 * (predicting no rotation). PSNR is also given on static pixels (ground-truth motion mask = 0).
 */
import { makeRng } from "../engine/rng.ts";
import { HELD_OUT_SEED_START } from "../data/config.ts";
import { packBatch, selectViews } from "../data/sampling.ts";
import { generateScene } from "../data/synth/index.ts";
import type { SynthConfig } from "../data/config.ts";
import type { Scene } from "../data/scene.ts";
import { mat4Rotation } from "../geometry/mat4.ts";
import { relativeToFirst } from "../geometry/poses.ts";
import { rotationAngleDeg } from "../geometry/rotations.ts";
import type { ModelConfig } from "../model/config.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import { makeInferenceForward } from "../pipeline/forward.ts";
import type { Runtime } from "../pipeline/onnxForward.ts";
import { blendCeilings } from "./blendOracle.ts";
import { meanFinite, psnrHost } from "./metrics.ts";
import { ssimHost } from "./ssim.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { perceptualDistance } from "../features/perceptual.ts";
import { tokenMasksFor, type TokenMaskSource } from "../pipeline/maskedInputs.ts";
import { makeMotionPass, MOTION_THRESHOLD } from "../pipeline/motion.ts";
import { meanIou } from "../pipeline/pseudoLabels.ts";
import { numpy as np } from "@jax-js/jax";

export type EvalReport = {
  scenes: number;
  targets: number;
  psnr: { model: number; nearestInput: number; meanOfInputs: number; identityCameras: number; trueCameras: number };
  /** PSNR on the static pixels (true motion mask 0) of the targets: the paper's PSNR on dynamic scenes. */
  psnrStatic: { model: number; nearestInput: number; meanOfInputs: number };
  /**
   * Whole-image PSNR against the clean static frame (the generator's image with the movers removed; NaN without
   * one): a render that copies a mover into the background loses here. Absent in reports written before it existed.
   */
  psnrClean?: { model: number; nearestInput: number; meanOfInputs: number };
  /** SSIM on the static pixels of the targets. */
  ssimStatic?: { model: number; nearestInput: number; meanOfInputs: number };
  /** The bundled perceptual distance (src/features/perceptual.ts; lower is better) on the static pixels, with a feature extractor. */
  perceptualStatic?: { model: number; nearestInput: number; meanOfInputs: number };
  /**
   * The motion estimator's masks on the targets against the true masks (mean IoU; NaN without an estimator), and
   * the trivial "everything moves" baseline.
   */
  maskIoU?: { model: number; allPixels: number };
  /** Where the input views' token masks came from and the fraction of input tokens replaced. */
  tokenMasks?: { source: TokenMaskSource; dropped: number };
  /** Mean SSIM (Gaussian 11, σ 1.5; src/eval/ssim.ts) of the same target views. */
  ssim: { model: number; nearestInput: number; meanOfInputs: number };
  rotationErrorDeg: { model: number; identity: number };
  /** Mean predicted normalised focal and the ground truth's. */
  focal: { model: number; truth: number };
  /**
   * Blend ceilings (src/eval/blendOracle.ts; two inputs only, else NaN): the inputs cross-faded at the target's
   * true frame time, and the best single mix per target. Oracles that use the frame times; a model above them
   * moves content. Absent in reports written before they existed.
   */
  blendCeilings?: { crossFade: number; bestGlobalMix: number };
};

/** Token masks at evaluation: the model's motion estimator, the true masks (a labelled oracle), or none. */
export type { TokenMaskSource } from "../pipeline/maskedInputs.ts";

/** Given samples: scenes at the model's size and their view orders ([inputs…, targets…], all of one length). */
export type EvalSamples = { scenes: readonly Scene[]; orders: readonly (readonly number[])[] };

export type EvalOptions = {
  /** Held-out synthetic scenes: seeds HELD_OUT_SEED_START + 0 … scenes − 1 (unless `seeds` or `samples`). */
  scenes: number;
  /** Synthetic scenes of these seeds instead (`wildrayzer eval --data synth:A..B`). */
  seeds?: readonly number[];
  /** Given samples instead of synthetic ones (`--data DIR`). */
  samples?: EvalSamples;
  /** Targets per sample (default: all of the sample's, i.e. views − inputs): the first `targets` of each order. */
  targets?: number;
  batch?: number;
  /** Inference runtime (default jax). */
  runtime?: Runtime;
  /** The frozen backbone: the motion estimator's input, and the perceptual metric. */
  features?: FeatureExtractor;
  /** Token masks of the input views (default: the motion estimator when the model has one and `features` is given, else none). */
  tokenMasks?: TokenMaskSource;
  /** Threshold on a token's pooled dynamic fraction (default: the official 0.1). */
  tokenThreshold?: number;
  onProgress?: (done: number, total: number) => void;
};

/**
 * Evaluates `params` (not consumed) on `scenes` held-out scenes of `data`, `batch` at a time.
 * Scene i uses seed HELD_OUT_SEED_START + i and a view choice seeded by it, so every model sees the same samples.
 * With `seeds` or `samples` it evaluates those instead. Pose metrics and the true-camera diagnostic need cameras
 * on every frame of a sample; they are NaN when no sample has them.
 */
export async function evaluateStage1(params: RayZerParams, model: ModelConfig, data: SynthConfig, opts: EvalOptions): Promise<EvalReport> {
  const batch = opts.batch ?? 8;
  const k = model.inputViews;
  const seedList = opts.seeds ?? Array.from({ length: opts.scenes }, (_, i) => HELD_OUT_SEED_START + i);
  const total = opts.samples ? opts.samples.scenes.length : seedList.length;
  const keepViews = (o: readonly number[]) => (opts.targets === undefined ? [...o] : o.slice(0, k + opts.targets));
  const samplesAt = (start: number, count: number): { scenes: Scene[]; orders: number[][] } => {
    const got = opts.samples
      ? { scenes: opts.samples.scenes.slice(start, start + count), orders: opts.samples.orders.slice(start, start + count).map((o) => [...o]) }
      : heldOutSamples(seedList.slice(start, start + count), data, model);
    return { scenes: got.scenes, orders: got.orders.map(keepViews) };
  };
  const fx = opts.features ?? null;
  const source: TokenMaskSource = opts.tokenMasks ?? (model.motion && fx ? "motion" : "none");
  if (source === "motion" && (!model.motion || !fx)) throw new Error("evaluateStage1: token masks from the motion estimator need a model with one and the feature extractor");
  const motionPass = model.motion && fx ? makeMotionPass(model) : null;
  // the exported ONNX graph zeroes masked tokens; a learned noise token runs on jax
  const forward = makeInferenceForward(model, source !== "none" && model.maskedTokens !== "zero" ? "jax" : opts.runtime);
  const dropped: number[] = [];
  const iou = { model: [] as number[], all: [] as number[] };
  const accClean = { model: [] as number[], near: [] as number[], mean: [] as number[] };
  const accSsimS = { model: [] as number[], near: [] as number[], mean: [] as number[] };
  const accPerc = { model: [] as number[], near: [] as number[], mean: [] as number[] };
  const acc = { model: [] as number[], near: [] as number[], mean: [] as number[], ident: [] as number[], truth: [] as number[] };
  const accS = { model: [] as number[], near: [] as number[], mean: [] as number[] };
  const accSsim = { model: [] as number[], near: [] as number[], mean: [] as number[] };
  const rot = { model: [] as number[], identity: [] as number[] };
  const focal = { model: [] as number[], truth: [] as number[] };
  const ceil = { fade: [] as number[], mix: [] as number[] };
  for (let start = 0; start < total; start += batch) {
    const count = Math.min(batch, total - start);
    const { scenes, orders } = samplesAt(start, count);
    const host = packBatch(scenes, orders);
    const [bb, vv, , hh, ww] = host.shape;
    const px = hh * ww;
    const { probs, keep } = await tokenMasksFor(source, motionPass, params, model, fx, host, opts.tokenThreshold);
    if (keep) dropped.push(keep.reduce((a, x) => a + (1 - x), 0) / keep.length);
    if (probs && host.masks.some((x) => x > 0)) {
      for (let i = 0; i < bb; i++)
        for (let j = k; j < vv; j++) {
          const at = (i * vv + j) * px;
          const truth = [Uint8Array.from(host.masks.subarray(at, at + px))];
          iou.model.push(meanIou([Uint8Array.from(probs.subarray(at, at + px), (q) => (q > MOTION_THRESHOLD ? 1 : 0))], truth));
          iou.all.push(meanIou([new Uint8Array(px).fill(1)], truth));
        }
    }
    const { renders: r, c2w: cams, fxfycxcy: intr } = await forward.estimate(params, host.images, host.shape, keep ? { keep } : {});
    const ri = await forward.identity(params, host.images, host.shape, keep ? { keep } : {});
    // diagnostic: the same model rendering from the generator's true cameras (tells a camera-estimator bottleneck
    // from a renderer bottleneck; never used in training unless the labelled --pose-warmup ablation is on)
    const rt = host.cameras ? await forward.withCameras(params, host.images, host.shape, host.cameras.c2w, host.cameras.fxfycxcy, keep ? { keep } : {}) : null;
    const [, v, , h, w] = host.shape;
    const img = 3 * h * w;
    const t = v - k;
    for (let i = 0; i < count; i++) {
      const scene = scenes[i]!;
      const order = orders[i]!;
      const inputs = order.slice(0, k).map((f) => scene.frames[f]!.image);
      const meanImg = new Float32Array(img);
      for (const im of inputs) for (let p = 0; p < img; p++) meanImg[p] = meanImg[p]! + im[p]! / k;
      const posed = order.every((f) => scene.frames[f]!.camera);
      const cam0 = scene.frames[order[0]!]!.camera;
      const truthRel = posed ? relativeToFirst(order.map((f) => scene.frames[f]!.camera!.c2w)) : null;
      for (let j = 0; j < t; j++) {
        const f = order[k + j]!;
        const frame = scene.frames[f]!;
        const gt = frame.image;
        const staticPx = frame.mask ? Float32Array.from(frame.mask, (m) => 1 - m) : undefined;
        const nearest = order.slice(0, k).reduce((best, cand) => (Math.abs(cand - f) < Math.abs(best - f) ? cand : best));
        const nearImg = scene.frames[nearest]!.image;
        const pred = r.subarray((i * t + j) * img, (i * t + j + 1) * img);
        acc.model.push(psnrHost(pred, gt));
        acc.near.push(psnrHost(nearImg, gt));
        acc.mean.push(psnrHost(meanImg, gt));
        acc.ident.push(psnrHost(ri.subarray((i * t + j) * img, (i * t + j + 1) * img), gt));
        if (rt) acc.truth.push(psnrHost(rt.subarray((i * t + j) * img, (i * t + j + 1) * img), gt));
        accSsim.model.push(ssimHost(pred, gt, 3, h, w));
        accSsim.near.push(ssimHost(nearImg, gt, 3, h, w));
        accSsim.mean.push(ssimHost(meanImg, gt, 3, h, w));
        if (k === 2) {
          const c = blendCeilings(inputs[0]!, inputs[1]!, gt, (f - order[0]!) / (order[1]! - order[0]!));
          ceil.fade.push(c.crossFade);
          ceil.mix.push(c.bestGlobalAlpha);
        }
        if (staticPx) {
          accS.model.push(psnrHost(pred, gt, staticPx));
          accS.near.push(psnrHost(nearImg, gt, staticPx));
          accS.mean.push(psnrHost(meanImg, gt, staticPx));
          accSsimS.model.push(ssimHost(pred, gt, 3, h, w, staticPx));
          accSsimS.near.push(ssimHost(nearImg, gt, 3, h, w, staticPx));
          accSsimS.mean.push(ssimHost(meanImg, gt, 3, h, w, staticPx));
          if (fx) {
            const d = await perceptualDistance(fx, np.array(Float32Array.from([...pred, ...nearImg, ...meanImg])).reshape([3, 3, h, w]), np.array(Float32Array.from([...gt, ...gt, ...gt])).reshape([3, 3, h, w]), np.array(Float32Array.from([...staticPx, ...staticPx, ...staticPx])).reshape([3, 1, h, w])).data();
            accPerc.model.push(d[0]!);
            accPerc.near.push(d[1]!);
            accPerc.mean.push(d[2]!);
          }
        }
        if (frame.static) {
          accClean.model.push(psnrHost(pred, frame.static));
          accClean.near.push(psnrHost(nearImg, frame.static));
          accClean.mean.push(psnrHost(meanImg, frame.static));
        }
        if (!truthRel) continue;
        // rotation relative to the canonical (first input) view: truth inv(c2w₀)·c2wⱼ vs the prediction
        const truthRot = mat4Rotation(truthRel[k + j]!);
        const slot = (i * v + k + j) * 16;
        const predRot = [0, 1, 2, 4, 5, 6, 8, 9, 10].map((q) => cams[slot + q]!);
        rot.model.push(rotationAngleDeg(predRot, truthRot));
        rot.identity.push(rotationAngleDeg([1, 0, 0, 0, 1, 0, 0, 0, 1], truthRot)); // predicting no rotation
      }
      focal.model.push(intr[i * v * 4]!);
      if (posed && cam0) focal.truth.push(cam0.fxfycxcy[0] / w);
    }
    opts.onProgress?.(start + count, total);
  }
  forward.dispose();
  motionPass?.dispose();
  const triple = (a: { model: number[]; near: number[]; mean: number[] }) => ({ model: meanFinite(a.model), nearestInput: meanFinite(a.near), meanOfInputs: meanFinite(a.mean) });
  return {
    scenes: total,
    psnrClean: triple(accClean),
    ssimStatic: triple(accSsimS),
    ...(fx ? { perceptualStatic: triple(accPerc) } : {}),
    maskIoU: { model: meanFinite(iou.model), allPixels: meanFinite(iou.all) },
    tokenMasks: { source, dropped: dropped.length ? dropped.reduce((a, x) => a + x, 0) / dropped.length : 0 },
    targets: acc.model.length,
    psnr: { model: meanFinite(acc.model), nearestInput: meanFinite(acc.near), meanOfInputs: meanFinite(acc.mean), identityCameras: meanFinite(acc.ident), trueCameras: meanFinite(acc.truth) },
    psnrStatic: { model: meanFinite(accS.model), nearestInput: meanFinite(accS.near), meanOfInputs: meanFinite(accS.mean) },
    ssim: { model: meanFinite(accSsim.model), nearestInput: meanFinite(accSsim.near), meanOfInputs: meanFinite(accSsim.mean) },
    rotationErrorDeg: { model: meanFinite(rot.model), identity: meanFinite(rot.identity) },
    focal: { model: meanFinite(focal.model), truth: meanFinite(focal.truth) },
    blendCeilings: { crossFade: meanFinite(ceil.fade), bestGlobalMix: meanFinite(ceil.mix) },
  };
}


/** Held-out scenes of `seeds` and their view orders ([inputs…, targets…], seeded by the scene seed). */
export function heldOutSamples(seeds: readonly number[], data: SynthConfig, model: ModelConfig) {
  const scenes = seeds.map((s) => generateScene(s, data));
  const orders = seeds.map((s, i) => {
    const { inputs, targets } = selectViews(makeRng(s ^ 0x5eed), scenes[i]!.frames.length, model.inputViews, model.views);
    return [...inputs, ...targets];
  });
  return { scenes, orders };
}

/** One held-out sample run through the model: the scene, its view order, target renders and predicted cameras. */
export type Prediction = {
  seed: number;
  scene: Scene;
  /** Frame indices, [inputs…, targets…]. */
  order: number[];
  /** Renders of the targets, [3, h, w] each. */
  renders: Float32Array[];
  /** Predicted c2w per view in `order` (relative to the first input). */
  c2w: number[][];
  /** The motion estimator's probabilities of the targets [h·w] each (a model with one, given the feature extractor). */
  motion?: Float32Array[];
  /** The input views' token keep-mask [k·n] (1 = kept), when token masks were used. */
  keep?: Float32Array;
};

/**
 * Runs `params` (not consumed) on held-out samples `seeds` (HELD_OUT_SEED_START + i), one batch; with `features`
 * a model's motion estimator also runs (its target masks returned, its input masks replacing tokens unless
 * `tokenMasks` says otherwise).
 */
export async function predictHeldOut(
  params: RayZerParams,
  model: ModelConfig,
  data: SynthConfig,
  seeds: readonly number[],
  runtime?: Runtime,
  opts: { features?: FeatureExtractor; tokenMasks?: TokenMaskSource } = {},
): Promise<Prediction[]> {
  const { scenes, orders } = heldOutSamples(seeds, data, model);
  const host = packBatch(scenes, orders);
  const fx = opts.features ?? null;
  const source: TokenMaskSource = opts.tokenMasks ?? (model.motion && fx ? "motion" : "none");
  const motionPass = model.motion && fx ? makeMotionPass(model) : null;
  const { probs, keep } = await tokenMasksFor(source, motionPass, params, model, fx, host);
  motionPass?.dispose();
  const forward = makeInferenceForward(model, keep && model.maskedTokens !== "zero" ? "jax" : runtime);
  const { renders: r, c2w: cams } = await forward.estimate(params, host.images, host.shape, keep ? { keep } : {});
  forward.dispose();
  const [, v, , h, w] = host.shape;
  const img = 3 * h * w;
  const k = model.inputViews;
  const t = v - k;
  const n = keep ? keep.length / seeds.length : 0;
  return seeds.map((seed, i) => ({
    seed,
    scene: scenes[i]!,
    order: orders[i]!,
    renders: Array.from({ length: t }, (_, j) => r.slice((i * t + j) * img, (i * t + j + 1) * img)),
    c2w: Array.from({ length: v }, (_, j) => Array.from(cams.subarray((i * v + j) * 16, (i * v + j + 1) * 16))),
    ...(probs ? { motion: Array.from({ length: t }, (_, j) => probs.slice((i * v + k + j) * h * w, (i * v + k + j + 1) * h * w)) } : {}),
    ...(keep ? { keep: keep.slice(i * n, (i + 1) * n) } : {}),
  }));
}
