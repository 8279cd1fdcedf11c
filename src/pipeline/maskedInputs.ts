/**
 * Masked input tokens at inference (docs/METHOD.md §7, "Masked tokens at inference"): a stage-3 WildRayZer was
 * trained with the dynamic tokens of its input views replaced before the scene encoder, so it renders that way too.
 * The motion estimator's probabilities of the input views are pooled per token patch (src/model/maskedTokens.ts
 * `tokenKeep`) into the scene encoder's keep-mask, which every forward takes (`estimate` and `withCameras`,
 * src/pipeline/forward.ts). Evaluation, `render`, `run` and the viewer share the code here.
 *
 * The stage rule: a model file of stage 3 that has a motion estimator masks by default; a stage-1 or stage-2 file
 * does not (its renderer never saw replaced tokens).
 */
import { WildrayzerError } from "../engine/errors.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { splitViews, type ModelConfig } from "../model/config.ts";
import type { Stage } from "../model/load.ts";
import { tokenKeep, TOKEN_MASK_THRESHOLD } from "../model/maskedTokens.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import type { Shape5 } from "./forward.ts";
import { MASK_TAP } from "./maskTap.ts";
import { makeMotionPass, motionProbabilities } from "./motion.ts";
import type { Runtime } from "./onnxForward.ts";

/** Token masks at evaluation: the model's motion estimator, the true masks (a labelled oracle), or none. */
export type TokenMaskSource = "motion" | "oracle" | "none";

/** What the rendering commands offer (`--token-masks`): the motion estimator's masks, or none. */
export const TOKEN_MASK_MODES = ["motion", "none"] as const;
export type TokenMaskMode = (typeof TOKEN_MASK_MODES)[number];

/** Does this model have a motion estimator (a stage-2 or later WildRayZer)? */
export function hasMotion(params: RayZerParams, model: ModelConfig): boolean {
  return params.motion !== undefined && model.motion !== undefined;
}

/** The stage rule: a stage-3 model with a motion estimator renders from masked input tokens; any other does not. */
export function masksByDefault(stage: Stage, params: RayZerParams, model: ModelConfig): boolean {
  return stage === 3 && hasMotion(params, model);
}

/**
 * The token masks to use: `flag` (`--token-masks`) when given, else the stage rule. `motion` for a model without a
 * motion estimator is a user error naming `label` (the model file).
 */
export function resolveTokenMasks(flag: TokenMaskMode | undefined, stage: Stage, params: RayZerParams, model: ModelConfig, label: string): TokenMaskMode {
  if (flag === "motion" && !hasMotion(params, model)) {
    throw new WildrayzerError(`--token-masks motion: ${label} has no motion estimator (a stage-1 RayZer, or official weights: their motion head is not converted); give a stage-3 (or stage-2) --ckpt, or use --token-masks none`);
  }
  return flag ?? (masksByDefault(stage, params, model) ? "motion" : "none");
}

/** The rule in words, for reports: what was used and why. */
export function describeTokenMasks(mode: TokenMaskMode, flag: TokenMaskMode | undefined, stage: Stage, dropped?: number): string {
  const why = flag ? "--token-masks" : stage === 3 ? "the stage-3 default" : `the stage-${stage} default`;
  const frac = dropped === undefined ? "" : `, ${(100 * dropped).toFixed(1)} % of the input tokens replaced`;
  return mode === "motion" ? `input tokens masked by the motion estimator (${why}${frac})` : `input tokens not masked (${why})`;
}

/**
 * The runtime a forward must use: ONNX exports masked tokens as zeros only, so a model with a learned noise token
 * runs on jax when it masks.
 */
export function tokenMaskRuntime(model: ModelConfig, masking: boolean, runtime: Runtime | undefined): Runtime | undefined {
  return masking && model.maskedTokens !== "zero" ? "jax" : runtime;
}

/**
 * Keep-mask [b, k, n] of the input views (`splitViews(model, v).inputs`) from per-pixel dynamic maps `maps`
 * [b, v, h, w] of all views of a batch `shape` (values in [0, 1]: probabilities or binary masks).
 */
export function inputKeep(maps: Float32Array, model: ModelConfig, shape: Shape5, threshold = TOKEN_MASK_THRESHOLD): Float32Array {
  const [b, v, , h, w] = shape;
  const px = h * w;
  const { inputs } = splitViews(model, v);
  const k = inputs.length;
  const chosen = new Float32Array(b * k * px);
  for (let i = 0; i < b; i++) inputs.forEach((x, j) => chosen.set(maps.subarray((i * v + x) * px, (i * v + x + 1) * px), (i * k + j) * px));
  return tokenKeep(chosen, b * k, h, w, model.patch, threshold);
}

/**
 * The motion estimator's probabilities of every view of a host batch ([b·v, h·w]; null without an estimator pass)
 * and the input views' token keep-mask [b, k, n] from `source` (undefined for "none"; "oracle" reads `host.masks`).
 * `motionPass` runs over all views (`makeMotionPass(model)`).
 */
export async function tokenMasksFor(
  source: TokenMaskSource,
  motionPass: ReturnType<typeof makeMotionPass> | null,
  params: RayZerParams,
  model: ModelConfig,
  fx: FeatureExtractor | null,
  host: { images: Float32Array; shape: Shape5; masks: Float32Array },
  threshold = TOKEN_MASK_THRESHOLD,
): Promise<{ probs: Float32Array | null; keep?: Float32Array }> {
  const probs = motionPass && fx ? await motionProbabilities(motionPass, params, model, fx, MASK_TAP, host.images, host.shape) : null;
  if (source === "none") return { probs };
  if (source === "motion" && !probs) throw new Error("tokenMasksFor: token masks from the motion estimator need its pass and the feature extractor");
  return { probs, keep: inputKeep(source === "motion" ? probs! : host.masks, model, host.shape, threshold) };
}

/** The input views' keep-masks of host batches from a model's motion estimator (dispose when done). */
export type InputMasker = {
  /** Keep-mask [b, k, n] of the input views of `images` [b, v, 3, h, w] (every view informs the cameras). */
  keep(images: Float32Array, shape: Shape5): Promise<Float32Array>;
  dispose(): void;
};

/** An `InputMasker` on `params` (not consumed) with the frozen backbone `fx` (not disposed with the masker). */
export function makeInputMasker(params: RayZerParams, model: ModelConfig, fx: FeatureExtractor, threshold = TOKEN_MASK_THRESHOLD): InputMasker {
  if (!hasMotion(params, model)) throw new Error("makeInputMasker: the model has no motion estimator");
  const pass = makeMotionPass(model);
  return {
    async keep(images, shape) {
      const probs = await motionProbabilities(pass, params, model, fx, MASK_TAP, images, shape);
      return inputKeep(probs, model, shape, threshold);
    },
    dispose: () => pass.dispose(),
  };
}

/** Fraction of the tokens a keep-mask replaces (0 for none). */
export function droppedFraction(keep: Float32Array | undefined): number {
  return keep && keep.length ? keep.reduce((a, x) => a + (1 - x), 0) / keep.length : 0;
}

/** `masker`, recording the fraction of tokens each of its keep-masks replaces in `dropped` (for reports). */
export function countingMasker(masker: InputMasker, dropped: number[]): InputMasker {
  return {
    keep: async (images, shape) => {
      const keep = await masker.keep(images, shape);
      dropped.push(droppedFraction(keep));
      return keep;
    },
    dispose: () => masker.dispose(),
  };
}
