/**
 * Scene encoder (RayZer's E_scene, docs/METHOD.md §2.7): each input view's image tokens are fused with its Plücker ray
 * tokens (`FuseMLP([imageTokens ‖ PlkTok1(rays)])`); dynamic token positions are replaced by zeros (WildRayZer
 * §7: masked tokens) or, with `maskedTokens: "noiseToken"`, by a learned noise token (the official code's
 * `x·(1−m) + noise·m`); a mask that keeps every token leaves the tokens as they are; learned scene tokens are prepended and a transformer
 * stack reads the sequence. The first `sceneTokens` outputs are the latent scene z.
 */
import { nn, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { initLinear, initNorm, layerNorm, linear, type Linear, type Norm } from "../engine/layers.ts";
import { truncNormal } from "../engine/params.ts";
import { blockConfig, type ModelConfig } from "./config.ts";
import { rayTokens } from "./tokens.ts";
import { initStack, runStack, type StackParams } from "./transformer.ts";

export type FuseMlp = { norm: Norm; fc1: Linear; fc2: Linear };
export type SceneEncoderParams = {
  /** Input-view Plücker tokenizer PlkTok1: p·p·6 → d, no bias. */
  rayTokenizer: Linear;
  fuse: FuseMlp;
  /** Learned scene tokens [sceneTokens, d]. */
  sceneCode: JArray;
  blocks: StackParams;
  /** The learned token [1, d] that replaces dynamic tokens (only with `maskedTokens: "noiseToken"`). */
  noiseToken?: JArray;
};

export function initSceneEncoder(key: JArray, cfg: ModelConfig): SceneEncoderParams {
  const [kRay, kF1, kF2, kCode, kBlocks] = random.split(key, 5) as unknown as JArray[];
  const params: SceneEncoderParams = {
    rayTokenizer: initLinear(kRay!, cfg.patch * cfg.patch * 6, cfg.d),
    fuse: { norm: initNorm(2 * cfg.d), fc1: initLinear(kF1!, 2 * cfg.d, cfg.d, { bias: true }), fc2: initLinear(kF2!, cfg.d, cfg.d, { bias: true }) },
    sceneCode: truncNormal(kCode!, [cfg.sceneTokens, cfg.d], 0.02),
    blocks: initStack(kBlocks!, blockConfig(cfg), cfg.layers.encoder),
  };
  // A separate stream (folded from the scene-code key's seed would change existing inits): fixed seed 7.
  if (cfg.maskedTokens === "noiseToken") params.noiseToken = truncNormal(random.key(7), [1, cfg.d], 0.02);
  return params;
}

export type EncodedScene = {
  /** Latent scene tokens z [b, S, d]. */
  latent: JArray;
  /** Fused (and masked) input tokens [b, k·n, d], for a renderer that also reads them. */
  inputs: JArray;
};

/**
 * Shapes: b samples, k input views, n tokens per view, S scene tokens.
 * Consumes `p`, `imageTokens` [b, k, n, d], `rays` [b, k, 6, h, w] and `keep` [b, k, n] (1 = static token kept,
 * 0 = dynamic token replaced) or null (keep all).
 */
export function runSceneEncoder(p: SceneEncoderParams, imageTokens: JArray, rays: JArray, keep: JArray | null, cfg: ModelConfig): EncodedScene {
  const { blocks, ...rest } = p;
  const { seq, inputs } = sceneSequence(rest, imageTokens, rays, keep, cfg);
  const out = runStack(blocks, seq, blockConfig(cfg)); // [b, S + k·n, d]
  return { latent: out.slice([], [0, cfg.sceneTokens]), inputs }; // [b, S, d]
}

/**
 * The scene encoder's input sequence `[scene code (S), fused input tokens (k·n)]` and the fused (masked) input
 * tokens alone (for a renderer that reads them). Consumes what `runSceneEncoder` does, but the blocks.
 */
export function sceneSequence(p: Omit<SceneEncoderParams, "blocks">, imageTokens: JArray, rays: JArray, keep: JArray | null, cfg: ModelConfig): { seq: JArray; inputs: JArray } {
  const [b, k, n, d] = imageTokens.shape as [number, number, number, number];
  const pair = np.concatenate([imageTokens, rayTokens(p.rayTokenizer, rays, cfg)], -1); // [b, k, n, 2d]
  let fused = linear(p.fuse.fc2, nn.silu(linear(p.fuse.fc1, layerNorm(p.fuse.norm, pair, cfg.eps)))); // [b, k, n, d]
  if (keep) {
    const kept = keep.reshape([b, k, n, 1]); // [b, k, n, 1]
    if (p.noiseToken) {
      const noise = p.noiseToken.reshape([1, 1, 1, d]).mul(kept.ref.mul(-1).add(1)); // [b, k, n, d] noise where dynamic
      fused = fused.mul(kept).add(noise); // [b, k, n, d]
    } else fused = fused.mul(kept); // dynamic tokens → 0
  } else if (p.noiseToken) p.noiseToken.dispose();
  const inputs = fused.reshape([b, k * n, d]); // [b, k·n, d]
  const S = cfg.sceneTokens;
  const code = np.broadcastTo(p.sceneCode.reshape([1, S, d]), [b, S, d]); // [b, S, d]
  return { seq: np.concatenate([code, inputs.ref], 1), inputs }; // [b, S + k·n, d]
}
