/**
 * The layers every model component is built from, as pure functions over typed params: linear, layer norm,
 * RMS norm, multi-head attention with QK-norm, GELU MLP, the pre-norm transformer block, and patchify /
 * unpatchify. Reference: LVSM / wild-rayzer `model/transformer.py` (QK_Norm_TransformerBlock) and SPEC §2.1.
 *
 * Ownership (jax-js move semantics): every `runX` consumes its params and arrays and returns a new array.
 * Weights are stored `[in, out]` so that `linear` is `x @ W` with no transpose (PyTorch stores `[out, in]`;
 * checkpoint loaders transpose).
 */
import { numpy as np, nn, random, type Array as JArray } from "@jax-js/jax";
import { ones, truncNormal, zeros } from "./params.ts";

export type Linear = { weight: JArray; bias?: JArray };
export type Norm = { weight: JArray; bias?: JArray };
export type Mlp = { fc1: Linear; fc2: Linear };
export type BlockParams = { norm1: Norm; qkv: Linear; qNorm: Norm; kNorm: Norm; proj: Linear; norm2: Norm; mlp: Mlp };
export type BlockConfig = {
  /** Token width d. */
  d: number;
  /** Attention heads; d must divide evenly (head width d / heads, 64 in the paper). */
  heads: number;
  /** MLP hidden width as a multiple of d (4 in the paper). */
  mlpRatio: number;
  /** Norm epsilon (1e-5 in the paper, for layer norm and QK RMS norm). */
  eps: number;
};

/** Linear layer with weight ~ truncated N(0, std) (std 0.02 by default, SPEC §2.3) and zero bias. */
export function initLinear(key: JArray, dIn: number, dOut: number, opts: { bias?: boolean; std?: number } = {}): Linear {
  const weight = truncNormal(key, [dIn, dOut], opts.std ?? 0.02);
  return opts.bias ? { weight, bias: zeros([dOut]) } : { weight };
}

/** `x @ W + b`. Consumes `p` and `x` [..., in]; returns [..., out]. */
export function linear(p: Linear, x: JArray): JArray {
  const y = np.matmul(x, p.weight); // [..., out]; N-D @ 2-D is safe (the 2-D @ N-D case is the bug in ENGINE.md)
  return p.bias ? y.add(p.bias) : y;
}

/** A norm with weight 1 (and zero bias when `bias`). */
export function initNorm(d: number, opts: { bias?: boolean } = {}): Norm {
  return opts.bias ? { weight: ones([d]), bias: zeros([d]) } : { weight: ones([d]) };
}

/** Layer norm over the last axis: `(x − mean) / sqrt(var + eps) · w (+ b)`. Consumes `p`, `x` [..., d]. */
export function layerNorm(p: Norm, x: JArray, eps = 1e-5): JArray {
  const mean = np.mean(x.ref, -1, { keepdims: true }); // [..., 1]
  const xc = x.sub(mean); // [..., d]
  const variance = np.mean(np.square(xc.ref), -1, { keepdims: true }); // [..., 1]
  const y = xc.mul(np.reciprocal(np.sqrt(variance.add(eps)))).mul(p.weight); // [..., d]
  return p.bias ? y.add(p.bias) : y;
}

/** RMS norm over the last axis: `x / sqrt(mean(x²) + eps) · w`. Consumes `p`, `x` [..., d]. */
export function rmsNorm(p: Norm, x: JArray, eps = 1e-5): JArray {
  const ms = np.mean(np.square(x.ref), -1, { keepdims: true }); // [..., 1]
  const y = x.mul(np.reciprocal(np.sqrt(ms.add(eps)))).mul(p.weight); // [..., d]
  return p.bias ? y.add(p.bias) : y;
}

/** GELU MLP d → hidden → d (no biases, SPEC §2.1). */
export function initMlp(key: JArray, d: number, hidden: number, std = 0.02): Mlp {
  const [k1, k2] = random.split(key, 2) as unknown as [JArray, JArray];
  return { fc1: initLinear(k1, d, hidden, { std }), fc2: initLinear(k2, hidden, d, { std }) };
}

/** `fc2(gelu(fc1(x)))` with the exact (erf) GELU. Consumes `p`, `x` [..., d]; returns [..., d]. */
export function runMlp(p: Mlp, x: JArray): JArray {
  return linear(p.fc2, nn.gelu(linear(p.fc1, x), { approximate: false }));
}

/**
 * Multi-head self-attention with QK-norm (RMS norm over each head's width, learnable weight), softmax scale
 * 1/√dh, no mask. Shapes: b batch, n tokens, nh heads, dh head width.
 * Consumes `q`, `k`, `v` [b, n, nh, dh] and the two norms; returns [b, n, nh, dh].
 */
export function qkNormAttention(qNorm: Norm, kNorm: Norm, q: JArray, k: JArray, v: JArray, eps: number): JArray {
  const dh = q.shape[3]!;
  // Heads become a batch axis so QKᵀ and AV are single batched matmuls. (jax-js 0.1.25's dotProductAttention
  // goes through einsum, which needs iterator helpers that Node 20 lacks; see test/engine/jaxQuirks.test.ts.)
  const qh = rmsNorm(qNorm, q, eps).mul(1 / Math.sqrt(dh)).transpose([0, 2, 1, 3]); // [b, nh, n, dh]
  const kt = rmsNorm(kNorm, k, eps).transpose([0, 2, 3, 1]); // [b, nh, dh, n]
  const vh = v.transpose([0, 2, 1, 3]); // [b, nh, n, dh]
  const attn = nn.softmax(np.matmul(qh, kt), -1); // [b, nh, n, n]
  return np.matmul(attn, vh).transpose([0, 2, 1, 3]); // [b, n, nh, dh]
}

/**
 * A pre-norm transformer block. `std` is the weight init std of its linears (SPEC §2.3 uses 0.02/√(2(i+1)) for
 * the i-th block of a stack).
 */
export function initBlock(key: JArray, cfg: BlockConfig, std = 0.02): BlockParams {
  const [kQkv, kProj, kMlp] = random.split(key, 3) as unknown as [JArray, JArray, JArray];
  const { d } = cfg;
  const dh = headWidth(cfg);
  return {
    norm1: initNorm(d),
    qkv: initLinear(kQkv, d, 3 * d, { std }),
    qNorm: initNorm(dh),
    kNorm: initNorm(dh),
    proj: initLinear(kProj, d, d, { std }),
    norm2: initNorm(d),
    mlp: initMlp(kMlp, d, cfg.mlpRatio * d, std),
  };
}

/** Head width d / heads; throws if it does not divide. */
export function headWidth(cfg: BlockConfig): number {
  if (cfg.d % cfg.heads !== 0) throw new Error(`width ${cfg.d} is not divisible by ${cfg.heads} heads`);
  return cfg.d / cfg.heads;
}

/**
 * `x + attn(norm1(x))`, then `x + mlp(norm2(x))`.
 * Shapes: b batch, n tokens, d width, nh heads, dh = d / nh.
 * Consumes `p` and `x` [b, n, d]; returns [b, n, d].
 */
export function runBlock(p: BlockParams, x: JArray, cfg: BlockConfig): JArray {
  const [b, n, d] = x.shape as [number, number, number];
  const nh = cfg.heads;
  const dh = headWidth(cfg);
  const qkv = linear(p.qkv, layerNorm(p.norm1, x.ref, cfg.eps)); // [b, n, 3d]; x.ref keeps x for the residual
  const [q, k, v] = np.split(qkv, 3, -1).map((t) => t.reshape([b, n, nh, dh])) as [JArray, JArray, JArray]; // 3 × [b, n, nh, dh]
  const o = qkNormAttention(p.qNorm, p.kNorm, q, k, v, cfg.eps); // [b, n, nh, dh]
  const h = x.add(linear(p.proj, o.reshape([b, n, d]))); // [b, n, d]
  return h.ref.add(runMlp(p.mlp, layerNorm(p.norm2, h, cfg.eps))); // [b, n, d]; h.ref keeps h for the residual
}

/**
 * Image → patch tokens, SPEC §1 order: tokens row-major over the patch grid; inside a patch (row, col, channel)
 * with channel fastest. Shapes: b images, c channels, h w pixels, p patch, hp = h/p, wp = w/p.
 * Consumes `x` [b, c, h, w]; returns [b, hp·wp, p·p·c].
 */
export function patchify(x: JArray, p: number): JArray {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  if (h % p !== 0 || w % p !== 0) throw new Error(`image ${h}×${w} is not divisible by patch ${p}`);
  const hp = h / p;
  const wp = w / p;
  return x
    .reshape([b, c, hp, p, wp, p]) // [b, c, hp, pr, wp, pc]
    .transpose([0, 2, 4, 3, 5, 1]) // [b, hp, wp, pr, pc, c]
    .reshape([b, hp * wp, p * p * c]); // [b, n, p·p·c]
}

/** Inverse of `patchify`. Consumes `t` [b, hp·wp, p·p·c]; returns [b, c, hp·p, wp·p]. */
export function unpatchify(t: JArray, p: number, hp: number, wp: number): JArray {
  const [b, n, k] = t.shape as [number, number, number];
  if (n !== hp * wp || k % (p * p) !== 0) throw new Error(`cannot unpatchify [${t.shape}] into a ${hp}×${wp} grid of patch ${p}`);
  const c = k / (p * p);
  return t
    .reshape([b, hp, wp, p, p, c]) // [b, hp, wp, pr, pc, c]
    .transpose([0, 5, 1, 3, 2, 4]) // [b, c, hp, pr, wp, pc]
    .reshape([b, c, hp * p, wp * p]); // [b, c, h, w]
}
