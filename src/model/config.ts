/**
 * ModelConfig: the RayZer core's sizes and variants, as a strict zod schema with named presets. `small` is
 * written out in full; the others are deltas. Values follow docs/METHOD.md §2 (official code) for `paper`, and docs/METHOD.md ("Small-model training")
 * best measured CPU setting for `small`.
 */
import { z } from "zod";
import { MotionConfigSchema } from "./motionConfig.ts";

export const ModelConfigSchema = z
  .object({
    /** Square working resolution in pixels. */
    imageSize: z.number().int().positive(),
    /** Patch size in pixels (tokens per view = (imageSize / patch)²). */
    patch: z.number().int().positive(),
    /** Token width d. */
    d: z.number().int().positive(),
    /** Attention heads (head width d / heads). */
    heads: z.number().int().positive(),
    /** MLP hidden width as a multiple of d. */
    mlpRatio: z.number().int().positive(),
    /** Norm epsilon. */
    eps: z.number().positive(),
    /** Views per sample V (inputs + targets); sizes the view-index embedding table. */
    views: z.number().int().min(2),
    /** Input views K: the first K views of a sample feed the scene encoder, the rest are targets. */
    inputViews: z.number().int().min(1),
    /** Transformer blocks per stack. */
    layers: z.object({ camera: z.number().int().min(1), encoder: z.number().int().min(1), renderer: z.number().int().min(1) }).strict(),
    /** Learned scene tokens (the latent scene z). */
    sceneTokens: z.number().int().positive(),
    /** What the renderer attends to: the latent only (RayZer), or the latent plus the fused input tokens. */
    rendererReads: z.enum(["latent", "latentAndInputs"]),
    /** Add the view index to the token positional embedding (the official code does; docs/METHOD.md ("Small-model training"): a shortcut). */
    viewIndexEmbedding: z.boolean(),
    /** Normalised focal (fx / W) the camera estimator starts from (docs/METHOD.md §2.5: 1.25). */
    focalInit: z.number().positive(),
    /**
     * Learned register tokens appended to the camera estimator's sequence (not in the paper). They exist to round
     * its length v + v·n up to a multiple of 4: jax-js 0.1.25's attention matmuls fall off the SIMD path for other
     * lengths (measured: a d=128 block's forward+backward at n = 102 takes 600 ms, at n = 104 335 ms; BENCHMARKS.md).
     */
    cameraRegisters: z.number().int().min(0).default(0),
    /**
     * The camera estimator reads the image tokens average-pooled over `cameraPool` × `cameraPool` patches (1: as
     * they are). A pose is a property of the whole view: with small patches for the renderer (RESULTS.md: 4-px
     * patches +0.65 dB at equal steps), pooling keeps the estimator's sequence, and its cost, that of larger patches.
     */
    cameraPool: z.number().int().min(1).default(1),
    /**
     * Standard deviation of the camera estimator's focal- and pose-head weights at initialisation (their biases are
     * zero). 0.02 is every other layer's; the official RayZer draws these heads from N(0, 1e-3), so every view starts
     * at the canonical pose with the default focal (issue "the small RayZer learns to read poses": a lever to try).
     */
    cameraHeadStd: z.number().positive().default(0.02),
    /**
     * Order of the two halves of the spatial sin-cos code: `[E(col), E(row)]` (ours and WildRayZer's) or
     * `[E(row), E(col)]` (RayZer's). See docs/OFFICIAL.md.
     */
    spatialPe: z.enum(["colRow", "rowCol"]).default("colRow"),
    /** The view poses are relative to: the first view, or the middle one (index ⌊v/2⌋, RayZer's). */
    canonicalView: z.enum(["first", "middle"]).default("first"),
    /**
     * Which views of a sample are inputs: the first `inputViews` (`first`), or RayZer's fixed gcd split (`gcd`:
     * g = gcd(K, T) groups of v/g consecutive views, the first K/g of each group inputs, the rest targets; for
     * v = 24, K = 16: inputs 0, 1, 3, 4, …, targets 2, 5, 8, …).
     */
    viewSplit: z.enum(["first", "gcd"]).default("first"),
    /** What replaces a dynamic (masked) input token: zeros, or a learned noise token (WildRayZer's MAE masking). */
    maskedTokens: z.enum(["zero", "noiseToken"]).default("zero"),
    /**
     * WildRayZer's motion estimator (src/model/motionEstimator.ts), when the model has one: trained in stage 2,
     * absent from a stage-1 RayZer. Its token width and patch must be the model's.
     */
    motion: MotionConfigSchema.optional(),
  })
  .strict()
  .refine((c) => !c.motion || (c.motion.tokenWidth === c.d && c.motion.patch === c.patch), { message: "motion.tokenWidth and motion.patch must equal the model's d and patch" })
  .refine((c) => c.imageSize % c.patch === 0, { message: "imageSize must be a multiple of patch" })
  .refine((c) => (c.imageSize / c.patch) % c.cameraPool === 0, { message: "cameraPool must divide the patch grid (imageSize / patch)" })
  .refine((c) => c.d % c.heads === 0, { message: "d must be a multiple of heads" })
  .refine((c) => c.d % 4 === 0, { message: "d must be a multiple of 4 (sin-cos positional embedding)" })
  .refine((c) => c.inputViews < c.views, { message: "inputViews must leave at least one target view" });

export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** The CPU-trainable demo model: docs/METHOD.md ("Small-model training") study 2's best setting (32², 1.5 M params, ~135 ms/step in PyTorch). */
export const SMALL: ModelConfig = {
  imageSize: 32, // px
  patch: 8, // px → 16 tokens per view
  d: 128,
  heads: 4, // head width 32
  mlpRatio: 4,
  eps: 1e-5, // docs/METHOD.md §2.1
  views: 6, // docs/METHOD.md ("Small-model training") study 2: 6 frames per scene
  inputViews: 2,
  layers: { camera: 2, encoder: 2, renderer: 2 },
  sceneTokens: 32,
  rendererReads: "latentAndInputs", // docs/METHOD.md ("Small-model training"): +2.8 dB over latent-only at this size
  // On (docs/METHOD.md §2.4): without a view code the camera estimator cannot tell views apart (its camera tokens are all
  // alike and image tokens carry no view), so every non-canonical view got one and the same pose. docs/METHOD.md ("Small-model training") worry
  // (a per-index mean trajectory) does not apply here: the targets' order in a sample is shuffled (data/sampling.ts).
  viewIndexEmbedding: true,
  focalInit: 1.25, // docs/METHOD.md §2.5
  cameraRegisters: 2, // 6 camera + 96 image tokens + 2 = 104, a multiple of 4 (see the schema)
  cameraPool: 1,
  cameraHeadStd: 0.02,
  spatialPe: "colRow",
  canonicalView: "first",
  viewSplit: "first",
  maskedTokens: "zero",
};

export const MODEL_PRESETS = {
  tiny: { ...SMALL, d: 32, heads: 2, views: 4, layers: { camera: 1, encoder: 1, renderer: 1 }, sceneTokens: 8, cameraRegisters: 0 }, // tests: seconds on one core (32², the smallest synthetic size); 4 + 64 tokens

  small: SMALL,
  base: { ...SMALL, imageSize: 64, d: 256, views: 8, layers: { camera: 4, encoder: 4, renderer: 4 }, sceneTokens: 64, cameraRegisters: 0 }, // docs/METHOD.md ("Small-model training") study 1 size (10 M params); long runs or a GPU; 8 + 512 tokens
  paper: {
    ...SMALL,
    imageSize: 256,
    patch: 16,
    d: 768,
    heads: 12, // head width 64
    views: 8, // K = 2 inputs + T = 6 targets
    layers: { camera: 12, encoder: 8, renderer: 12 }, // docs/METHOD.md §2.2 (code: 32 layers)
    sceneTokens: 768,
    rendererReads: "latent",
    viewIndexEmbedding: true,
    cameraRegisters: 0, // 8 + 2048 tokens
  },
  /**
   * The released WildRayZer (Hugging Face uva-cv-lab/wildrayzer-2view, `wildrayzer_2view.pt`), exactly: official
   * `configs/wildrayzer_inference.yaml` (d 768, heads of 64, 12 camera / 8 scene / 12 renderer layers, 768 scene
   * tokens, 256² at patch 16, 2 inputs + 6 targets, canonical first view, masked tokens → the learned noise token).
   */
  "official-wildrayzer-2view": {
    ...SMALL,
    imageSize: 256,
    patch: 16,
    d: 768,
    heads: 12,
    views: 8,
    inputViews: 2,
    layers: { camera: 12, encoder: 8, renderer: 12 },
    sceneTokens: 768,
    rendererReads: "latent",
    viewIndexEmbedding: true,
    cameraRegisters: 0,
    maskedTokens: "noiseToken",
  },
  /**
   * The released RayZer (Hugging Face hwjiang/RayZer, `rayzer_dl3dv_8_12_12_96k.pt`): official
   * `configs/rayzer_dl3dv.yaml` (d 768, heads of 64, 8 camera / 12 scene / 12 renderer layers, 3072 scene tokens,
   * 256² at patch 16), 24 views = 16 inputs + 8 targets in the gcd split, canonical middle view, spatial PE
   * `[row, col]`, no masking.
   */
  "official-rayzer-dl3dv": {
    ...SMALL,
    imageSize: 256,
    patch: 16,
    d: 768,
    heads: 12,
    views: 24,
    inputViews: 16,
    layers: { camera: 8, encoder: 12, renderer: 12 },
    sceneTokens: 3072,
    rendererReads: "latent",
    viewIndexEmbedding: true,
    cameraRegisters: 0,
    spatialPe: "rowCol",
    canonicalView: "middle",
    viewSplit: "gcd",
  },
} satisfies Record<string, ModelConfig>;

export type ModelPreset = keyof typeof MODEL_PRESETS;

/** The canonical view's index among v views. */
export function canonicalIndex(cfg: ModelConfig, v: number): number {
  switch (cfg.canonicalView) {
    case "first":
      return 0;
    case "middle":
      return Math.floor(v / 2);
  }
}

/**
 * Input and target view indices of a sample of v views with k inputs (ascending). `gcd` is RayZer's fixed split
 * (`SplitData._build_indices`); it needs v = k + targets (all views used).
 */
export function splitViews(cfg: ModelConfig, v: number, k = cfg.inputViews): { inputs: number[]; targets: number[] } {
  const all = Array.from({ length: v }, (_, i) => i);
  switch (cfg.viewSplit) {
    case "first":
      return { inputs: all.slice(0, k), targets: all.slice(k) };
    case "gcd": {
      const t = v - k;
      const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
      const g = gcd(k, t);
      const group = v / g;
      const inputs = all.filter((i) => i % group < k / g);
      return { inputs, targets: all.filter((i) => i % group >= k / g) };
    }
  }
}

/** Tokens per view n = (imageSize / patch)². */
export function tokensPerView(cfg: ModelConfig): number {
  return (cfg.imageSize / cfg.patch) ** 2;
}

/** Patches per side of the token grid. */
export function gridSize(cfg: ModelConfig): number {
  return cfg.imageSize / cfg.patch;
}

/** The block config every stack shares. */
export function blockConfig(cfg: ModelConfig): { d: number; heads: number; mlpRatio: number; eps: number } {
  return { d: cfg.d, heads: cfg.heads, mlpRatio: cfg.mlpRatio, eps: cfg.eps };
}
