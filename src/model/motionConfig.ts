/**
 * MotionConfig: the sizes of WildRayZer's motion estimator (docs/METHOD.md, "Motion estimator"), as a strict zod
 * schema with named presets. Kept apart from ModelConfig; a model config may carry one as its `motion` field,
 * and `checkMotionFitsModel` says whether the two agree (token width, patch size). `small` is written out in
 * full; `tiny` and `paper` are deltas (`paper`: the official MotionMaskPredictor's numbers).
 */
import { z } from "zod";
import { WildrayzerError } from "../engine/errors.ts";
import type { BlockConfig } from "../engine/layers.ts";

const isPowerOfTwo = (x: number) => x >= 1 && (x & (x - 1)) === 0;

export const MotionConfigSchema = z
  .object({
    /** Channels of the frozen backbone's feature map the caller passes (c_feat). */
    featureChannels: z.number().int().positive(),
    /** Width of the RayZer image and Plücker tokens the estimator reads (the model's d). */
    tokenWidth: z.number().int().positive(),
    /** The model's patch size in pixels; a power of two: the decoder upsamples the token grid log2(patch) times. */
    patch: z.number().int().positive(),
    /** Width of the estimator's own tokens (dm). */
    d: z.number().int().positive(),
    /** Attention heads of the shallow transformer (head width d / heads). */
    heads: z.number().int().positive(),
    /** MLP hidden width as a multiple of d. */
    mlpRatio: z.number().int().positive(),
    /** Norm epsilon (layer, RMS and group norms). */
    eps: z.number().positive(),
    /** Blocks of the shallow transformer (runs over each view's n tokens on its own). */
    layers: z.number().int().min(1),
    /** Channels after the decoder's stem at the token grid; each ×2 up block halves them. */
    decoderWidth: z.number().int().positive(),
    /** GroupNorm groups of a c-channel map: gcd(c, maxGroups). */
    maxGroups: z.number().int().positive(),
  })
  .strict()
  .refine((c) => isPowerOfTwo(c.patch), { message: "patch must be a power of two" })
  .refine((c) => c.decoderWidth % c.patch === 0, { message: "decoderWidth must be a multiple of patch (it is halved log2(patch) times)" })
  .refine((c) => c.d % c.heads === 0, { message: "d must be a multiple of heads" });

export type MotionConfig = z.infer<typeof MotionConfigSchema>;

/** For the `small` RayZer (32², patch 8, d 128) reading MobileNetV2's stride-4 tap: 4² tokens per view. */
export const MOTION_SMALL: MotionConfig = {
  featureChannels: 24, // MobileNetV2 `block_2_add` (stride 4; the pseudo-mask pipeline's tap): 8² at 32², resized to 4²
  tokenWidth: 128, // small ModelConfig d
  patch: 8, // small ModelConfig patch → 3 up blocks, 4² → 32²
  d: 128,
  heads: 4, // head width 32, as the small RayZer
  mlpRatio: 4,
  eps: 1e-5,
  layers: 2, // the paper's 4, halved: 16 tokens per view need little mixing
  decoderWidth: 96, // 96 @4² → 48 @8² → 24 @16² → 12 @32²
  maxGroups: 8, // groups 8, 8, 8, 4: 12, 6, 3, 3 channels per group (the paper's last stage: 3)
};

export const MOTION_PRESETS = {
  tiny: { ...MOTION_SMALL, featureChannels: 8, tokenWidth: 32, d: 16, heads: 2, mlpRatio: 2, layers: 1, decoderWidth: 16, maxGroups: 4 }, // tests: the tiny RayZer (d 32); 16 → 8 → 4 → 2 channels
  small: MOTION_SMALL,
  paper: {
    ...MOTION_SMALL,
    featureChannels: 4096, // DINOv3 ViT-7B/16 hidden width
    tokenWidth: 768,
    patch: 16, // 4 up blocks, 16² → 256²
    d: 768,
    heads: 12, // head width 64
    layers: 4,
    decoderWidth: 384, // 384 @16² → 192 → 96 → 48 → 24 @256²
    maxGroups: 32, // GN(32), GN(16) at 48, GN(8) at 24
  },
} satisfies Record<string, MotionConfig>;

export type MotionPreset = keyof typeof MOTION_PRESETS;

/** The ×2 up blocks of the decoder: log2(patch). */
export function upBlocks(cfg: MotionConfig): number {
  return Math.round(Math.log2(cfg.patch));
}

/** Channels at each decoder resolution, from the token grid up: decoderWidth, then halved per up block. */
export function decoderChannels(cfg: MotionConfig): number[] {
  return Array.from({ length: upBlocks(cfg) + 1 }, (_, i) => cfg.decoderWidth / 2 ** i);
}

/** GroupNorm groups for a map of `channels`: gcd(channels, maxGroups). */
export function groupsFor(channels: number, cfg: MotionConfig): number {
  let [a, b] = [channels, cfg.maxGroups];
  while (b) [a, b] = [b, a % b];
  return a;
}

/** The block config of the shallow transformer. */
export function motionBlockConfig(cfg: MotionConfig): BlockConfig {
  return { d: cfg.d, heads: cfg.heads, mlpRatio: cfg.mlpRatio, eps: cfg.eps };
}

/**
 * Throws a one-line WildrayzerError when a motion config does not fit the model it is attached to (its tokens
 * are the model's image and Plücker tokens, its output the model's image size).
 */
export function checkMotionFitsModel(motion: MotionConfig, model: { d: number; patch: number }): void {
  if (motion.tokenWidth !== model.d) throw new WildrayzerError(`model config: motion.tokenWidth ${motion.tokenWidth} must equal the model's d ${model.d}`);
  if (motion.patch !== model.patch) throw new WildrayzerError(`model config: motion.patch ${motion.patch} must equal the model's patch ${model.patch}`);
}
