/**
 * Renderer (RayZer's decoder, docs/METHOD.md §2.8): each target view's Plücker ray tokens (PlkTok2) are joined with the
 * latent scene (and, for `rendererReads: "latentAndInputs"`, the fused input tokens — docs/METHOD.md ("Small-model training") faster-learning
 * variant); the whole sequence is layer-normed, a transformer stack reads it with joint self-attention, and the
 * first n outputs go through a head (LN → linear → sigmoid) to RGB patches, unpatchified to images in [0, 1].
 */
import { nn, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { initLinear, initNorm, layerNorm, linear, unpatchify, type Linear, type Norm } from "../engine/layers.ts";
import { blockConfig, gridSize, tokensPerView, type ModelConfig } from "./config.ts";
import { rayTokens } from "./tokens.ts";
import { initStack, runStack, type StackParams } from "./transformer.ts";

export type RendererParams = {
  /** Target-view Plücker tokenizer PlkTok2: p·p·6 → d, no bias. */
  rayTokenizer: Linear;
  inNorm: Norm;
  blocks: StackParams;
  outNorm: Norm;
  /** d → p·p·3, no bias. */
  head: Linear;
};

export function initRenderer(key: JArray, cfg: ModelConfig): RendererParams {
  const [kRay, kBlocks, kHead] = random.split(key, 3) as unknown as JArray[];
  return {
    rayTokenizer: initLinear(kRay!, cfg.patch * cfg.patch * 6, cfg.d),
    inNorm: initNorm(cfg.d),
    blocks: initStack(kBlocks!, blockConfig(cfg), cfg.layers.renderer),
    outNorm: initNorm(cfg.d),
    head: initLinear(kHead!, cfg.d, cfg.patch * cfg.patch * 3),
  };
}

/**
 * Shapes: b samples, t target views, n tokens per view, S scene tokens, k·n fused input tokens.
 * Consumes `p`, `rays` [b, t, 6, h, w], `latent` [b, S, d] and `inputs` [b, k·n, d] (disposed when the renderer
 * reads the latent only); returns images [b, t, 3, h, w] in [0, 1].
 */
export function runRenderer(p: RendererParams, rays: JArray, latent: JArray, inputs: JArray, cfg: ModelConfig): JArray {
  const [b, t] = rays.shape as [number, number];
  const { blocks, outNorm, head, ...rest } = p;
  const seq = rendererSequence(rest, rays, latent, inputs, cfg); // [b·t, n + m, d]
  return rendererHead({ outNorm, head }, runStack(blocks, seq, blockConfig(cfg)), b, t, cfg); // [b, t, 3, h, w]
}

/**
 * The renderer's input sequence per target view: layer-normed `[ray tokens (n), latent (S) (, inputs)]`.
 * Consumes `p`, `rays` [b, t, 6, h, w], `latent` and `inputs` (see `runRenderer`); returns [b·t, n + m, d].
 */
export function rendererSequence(p: Pick<RendererParams, "rayTokenizer" | "inNorm">, rays: JArray, latent: JArray, inputs: JArray, cfg: ModelConfig): JArray {
  const [b, t] = rays.shape as [number, number];
  const n = tokensPerView(cfg);
  const { d } = cfg;
  const queries = rayTokens(p.rayTokenizer, rays, cfg).reshape([b * t, n, d]); // [b·t, n, d]
  let context = latent; // [b, S, d]
  if (cfg.rendererReads === "latentAndInputs") context = np.concatenate([context, inputs], 1); // [b, S + k·n, d]
  else inputs.dispose();
  const m = context.shape[1]!;
  const shared = np.broadcastTo(context.reshape([b, 1, m, d]), [b, t, m, d]).reshape([b * t, m, d]); // [b·t, m, d]
  return layerNorm(p.inNorm, np.concatenate([queries, shared], 1), cfg.eps); // [b·t, n + m, d]
}

/** The first n outputs of the stack → RGB. Consumes `p` and `out` [b·t, n + m, d]; returns [b, t, 3, h, w] in [0, 1]. */
export function rendererHead(p: Pick<RendererParams, "outNorm" | "head">, out: JArray, b: number, t: number, cfg: ModelConfig): JArray {
  const n = tokensPerView(cfg);
  const rgb = nn.sigmoid(linear(p.head, layerNorm(p.outNorm, out.slice([], [0, n]), cfg.eps))); // [b·t, n, p·p·3]
  const g = gridSize(cfg);
  return unpatchify(rgb, cfg.patch, g, g).reshape([b, t, 3, cfg.imageSize, cfg.imageSize]); // [b, t, 3, h, w]
}
