/**
 * Motion estimator (WildRayZer's E_mot, the official `MotionMaskPredictor`): per view, frozen backbone features,
 * the RayZer image tokens (taken before the camera estimator) and Plücker ray tokens are projected to width dm,
 * fused by an MLP, mixed by a shallow transformer over that view's n tokens alone, read out to a dm-channel map
 * on the token grid, and decoded by a convolutional upsampler to per-pixel motion logits at the image size
 * (probability = sigmoid). It never sees a rendering: its inputs exist before the scene is reconstructed.
 * Layers, sizes and how ours differs at small size: docs/METHOD.md, "Motion estimator".
 * The decoder runs channels last ([b, h, w, c]) because our convolution is an im2col matmul (engine/layers.ts).
 */
import { nn, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { resizeBilinear } from "../engine/image.ts";
import {
  conv2d,
  groupNorm,
  initBlock,
  initConv2d,
  initLinear,
  initNorm,
  layerNorm,
  linear,
  upsample2x,
  type Conv2d,
  type Linear,
  type Norm,
} from "../engine/layers.ts";
import { decoderChannels, groupsFor, motionBlockConfig, type MotionConfig } from "./motionConfig.ts";
import { runStack, type StackParams } from "./transformer.ts";

/** LN → Linear: one input branch. */
export type Branch = { norm: Norm; proj: Linear };
export type FusionMlp = { norm: Norm; fc1: Linear; fc2: Linear };
/** The stem at the token grid: Conv3×3 → GN → GELU → Conv3×3. */
export type StemParams = { conv1: Conv2d; norm1: Norm; conv2: Conv2d };
/** `Up(a → b)`: bilinear ×2 → Conv1×1(a → b) → GN → GELU → Conv3×3(b → b) → GN → GELU. */
export type UpBlockParams = { conv1: Conv2d; norm1: Norm; conv2: Conv2d; norm2: Norm };
/** One decoder stage: an up block, then Conv3×3 → GN → GELU at the new resolution. */
export type DecoderStageParams = { up: UpBlockParams; conv: Conv2d; norm: Norm };
/** Conv3×3 → GELU → Conv1×1(→ 1, bias): the logits. */
export type HeadParams = { conv1: Conv2d; conv2: Conv2d };
export type MotionDecoderParams = { stem: StemParams; stages: DecoderStageParams[]; head: HeadParams };

export type MotionEstimatorParams = {
  /** LN (no bias) → Linear(c_feat → dm). */
  features: Branch;
  /** LN → Linear(d → dm) on the image tokens. */
  tokens: Branch;
  /** LN → Linear(d → dm) on the Plücker tokens. */
  rays: Branch;
  /** concat (3·dm) → LN (no bias) → Linear(3dm → dm) → GELU → Linear(dm → dm). */
  fuse: FusionMlp;
  blocks: StackParams;
  /** LN → Linear(dm → dm) before the reshape to a map. */
  readout: Branch;
  decoder: MotionDecoderParams;
};

const gelu = (x: JArray) => nn.gelu(x, { approximate: false });
const initGroupNorm = (c: number): Norm => initNorm(c, { bias: true });

function initBranch(key: JArray, dIn: number, dOut: number, normBias: boolean): Branch {
  return { norm: initNorm(dIn, { bias: normBias }), proj: initLinear(key, dIn, dOut, { bias: true }) };
}

function runBranch(p: Branch, x: JArray, eps: number): JArray {
  return linear(p.proj, layerNorm(p.norm, x, eps));
}

export function initUpBlock(key: JArray, dIn: number, dOut: number): UpBlockParams {
  const [k1, k2] = random.split(key, 2) as unknown as [JArray, JArray];
  return { conv1: initConv2d(k1, dIn, dOut, 1), norm1: initGroupNorm(dOut), conv2: initConv2d(k2, dOut, dOut, 3), norm2: initGroupNorm(dOut) };
}

/** `Up(a → b)`; `groups` for the b-channel group norms. Consumes `p`, `x` [b, h, w, a]; returns [b, 2h, 2w, b]. */
export function runUpBlock(p: UpBlockParams, x: JArray, groups: number, eps: number): JArray {
  const y = gelu(groupNorm(p.norm1, conv2d(p.conv1, upsample2x(x)), groups, eps)); // [b, 2h, 2w, b]
  return gelu(groupNorm(p.norm2, conv2d(p.conv2, y), groups, eps)); // [b, 2h, 2w, b]
}

export function initMotionDecoder(key: JArray, cfg: MotionConfig): MotionDecoderParams {
  const ch = decoderChannels(cfg);
  const [kS1, kS2, kH1, kH2, ...kStages] = random.split(key, 4 + 2 * (ch.length - 1)) as unknown as JArray[];
  const last = ch.at(-1)!;
  return {
    stem: { conv1: initConv2d(kS1!, cfg.d, ch[0]!, 3), norm1: initGroupNorm(ch[0]!), conv2: initConv2d(kS2!, ch[0]!, ch[0]!, 3) },
    stages: ch.slice(1).map((c, i) => ({
      up: initUpBlock(kStages[2 * i]!, ch[i]!, c),
      conv: initConv2d(kStages[2 * i + 1]!, c, c, 3),
      norm: initGroupNorm(c),
    })),
    head: { conv1: initConv2d(kH1!, last, last, 3), conv2: initConv2d(kH2!, last, 1, 1) },
  };
}

/**
 * Token-grid map → logits. Shapes: m images, g token grid, dm width, H = g·patch.
 * Consumes `p` and `x` [m, g, g, dm]; returns [m, H, H].
 */
export function runMotionDecoder(p: MotionDecoderParams, x: JArray, cfg: MotionConfig): JArray {
  const ch = decoderChannels(cfg);
  const { eps } = cfg;
  const { stem, stages, head } = p;
  let y = conv2d(stem.conv2, gelu(groupNorm(stem.norm1, conv2d(stem.conv1, x), groupsFor(ch[0]!, cfg), eps))); // [m, g, g, c0]
  stages.forEach((s, i) => {
    const groups = groupsFor(ch[i + 1]!, cfg);
    y = runUpBlock(s.up, y, groups, eps); // [m, 2^(i+1)·g, …, c_{i+1}]
    y = gelu(groupNorm(s.norm, conv2d(s.conv, y), groups, eps)); // same shape
  });
  const logits = conv2d(head.conv2, gelu(conv2d(head.conv1, y))); // [m, H, H, 1]
  const [m, h, w] = logits.shape as [number, number, number, number];
  return logits.reshape([m, h, w]); // [m, H, H]
}

/**
 * Linears N(0, 0.02) with zero bias, the transformer blocks included (no depth scaling, unlike the RayZer
 * stacks); convolutions PyTorch's default; norms weight 1, bias 0. Consumes `key`.
 */
export function initMotionEstimator(key: JArray, cfg: MotionConfig): MotionEstimatorParams {
  const [kFeat, kTok, kRay, kF1, kF2, kBlocks, kOut, kDec] = random.split(key, 8) as unknown as JArray[];
  const { d } = cfg;
  const blockKeys = random.split(kBlocks!, cfg.layers) as unknown as JArray[];
  return {
    features: initBranch(kFeat!, cfg.featureChannels, d, false),
    tokens: initBranch(kTok!, cfg.tokenWidth, d, true),
    rays: initBranch(kRay!, cfg.tokenWidth, d, true),
    fuse: { norm: initNorm(3 * d), fc1: initLinear(kF1!, 3 * d, d, { bias: true }), fc2: initLinear(kF2!, d, d, { bias: true }) },
    blocks: [...blockKeys].map((k) => initBlock(k, motionBlockConfig(cfg), 0.02)),
    readout: initBranch(kOut!, d, d, true),
    decoder: initMotionDecoder(kDec!, cfg),
  };
}

/**
 * Per-pixel motion logits for each view. Shapes: b samples, v views, n = g·g tokens per view (row-major),
 * d token width, c feature channels on a gf × gf grid (any size; resized bilinearly to g × g when it differs),
 * H = W = g·patch. Each view is computed from its own three inputs only.
 * Consumes `p`, `features` [b, v, c, gf, gf] (from a frozen backbone), `imageTokens` [b, v, n, d] (the
 * tokenizer's output with positional embedding) and `rayTokens` [b, v, n, d]; returns logits [b, v, H, W].
 */
export function runMotionEstimator(p: MotionEstimatorParams, features: JArray, imageTokens: JArray, rayTokens: JArray, cfg: MotionConfig): JArray {
  const [b, v, n, dTok] = imageTokens.shape as [number, number, number, number];
  const [, , c, gf, gfw] = features.shape as [number, number, number, number, number];
  const g = Math.round(Math.sqrt(n));
  if (g * g !== n) throw new Error(`runMotionEstimator: ${n} tokens per view are not a square grid`);
  if (c !== cfg.featureChannels) throw new Error(`runMotionEstimator: features have ${c} channels, the config ${cfg.featureChannels}`);
  if (dTok !== cfg.tokenWidth) throw new Error(`runMotionEstimator: tokens have width ${dTok}, the config ${cfg.tokenWidth}`);
  const m = b * v;
  const { d, eps } = cfg;
  let fmap = features.reshape([m, c, gf, gfw]); // [b·v, c, gf, gf]
  if (gf !== g || gfw !== g) fmap = resizeBilinear(fmap, g, g); // [b·v, c, g, g]
  const feat = fmap.transpose([0, 2, 3, 1]).reshape([m, n, c]); // [b·v, n, c]; token order row-major, as the grid
  const parts = [
    runBranch(p.features, feat, eps), // [b·v, n, dm]
    runBranch(p.tokens, imageTokens.reshape([m, n, dTok]), eps), // [b·v, n, dm]
    runBranch(p.rays, rayTokens.reshape([m, n, dTok]), eps), // [b·v, n, dm]
  ];
  const cat = layerNorm(p.fuse.norm, np.concatenate(parts, -1), eps); // [b·v, n, 3dm]
  const fused = linear(p.fuse.fc2, gelu(linear(p.fuse.fc1, cat))); // [b·v, n, dm]
  const mixed = runStack(p.blocks, fused, motionBlockConfig(cfg)); // [b·v, n, dm]; one sequence per view
  const map = runBranch(p.readout, mixed, eps).reshape([m, g, g, d]); // [b·v, g, g, dm]
  const logits = runMotionDecoder(p.decoder, map, cfg); // [b·v, H, W]
  const [, h, w] = logits.shape as [number, number, number];
  return logits.reshape([b, v, h, w]); // [b, v, H, W]
}
