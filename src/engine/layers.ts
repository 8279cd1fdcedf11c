/**
 * The layers every model component is built from, as pure functions over typed params: linear, layer norm,
 * RMS norm, multi-head attention with QK-norm, GELU MLP, the pre-norm transformer block, patchify /
 * unpatchify, and the convolutional pieces of the motion decoder (2-D convolution, group norm, bilinear ×2
 * upsampling). Reference: LVSM / wild-rayzer `model/transformer.py` (QK_Norm_TransformerBlock).
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

/** Linear layer with weight ~ truncated N(0, std) (std 0.02 by default, docs/METHOD.md §2.3) and zero bias. */
export function initLinear(key: JArray, dIn: number, dOut: number, opts: { bias?: boolean; std?: number } = {}): Linear {
  const weight = truncNormal(key, [dIn, dOut], opts.std ?? 0.02);
  return opts.bias ? { weight, bias: zeros([dOut]) } : { weight };
}

/** `x @ W + b`. Consumes `p` and `x` [..., in]; returns [..., out]. */
export function linear(p: Linear, x: JArray): JArray {
  const y = np.matmul(x, p.weight); // [..., out]; N-D @ 2-D is safe (the 2-D @ N-D case is the bug in docs/ENGINE.md)
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

/** GELU MLP d → hidden → d (no biases, docs/METHOD.md §2.1). */
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
 * A pre-norm transformer block. `std` is the weight init std of its linears (docs/METHOD.md §2.3 uses 0.02/√(2(i+1)) for
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
 * Image → patch tokens, docs/METHOD.md §1 order: tokens row-major over the patch grid; inside a patch (row, col, channel)
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

/** A 2-D convolution. `weight` is [k, k, in, out] (HWIO, so the im2col product needs no transpose; PyTorch
 * stores OIHW and loaders transpose), `bias` [out]. */
export type Conv2d = { weight: JArray; bias?: JArray };

/**
 * A k×k convolution with PyTorch's default init (`nn.Conv2d`: weight and bias ~ U(−1/√fan_in, 1/√fan_in),
 * fan_in = in·k·k). Bias on unless `bias: false`. Consumes `key`.
 */
export function initConv2d(key: JArray, dIn: number, dOut: number, k: number, opts: { bias?: boolean } = {}): Conv2d {
  const [kW, kB] = random.split(key, 2) as unknown as [JArray, JArray];
  const bound = 1 / Math.sqrt(dIn * k * k);
  const weight = random.uniform(kW, [k, k, dIn, dOut], { minval: -bound, maxval: bound });
  if (opts.bias === false) {
    kB.dispose();
    return { weight };
  }
  return { weight, bias: random.uniform(kB, [dOut], { minval: -bound, maxval: bound }) };
}

/**
 * Stride-1 convolution with zero "same" padding (k odd), channels last, as one matmul over the k·k shifted
 * copies of the input (im2col). jax-js 0.1.25's `lax.convGeneralDilated` is correct but ~20× slower here
 * (forward + backward measured; docs/METHOD.md, "Motion estimator"). Shapes: b images, h w pixels, c in channels, o out channels.
 * Consumes `p` and `x` [b, h, w, c]; returns [b, h, w, o].
 */
export function conv2d(p: Conv2d, x: JArray): JArray {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const [k, , , o] = p.weight.shape as [number, number, number, number];
  if (k % 2 !== 1) throw new Error(`conv2d: kernel size ${k} must be odd`);
  let cols: JArray;
  if (k === 1) cols = x;
  else {
    const r = (k - 1) / 2;
    const xp = np.pad(x, [[0, 0], [r, r], [r, r], [0, 0]]); // [b, h + 2r, w + 2r, c]
    const shifted: JArray[] = [];
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) shifted.push(xp.ref.slice([], [dy, dy + h], [dx, dx + w])); // [b, h, w, c]
    }
    xp.dispose();
    cols = np.concatenate(shifted, -1); // [b, h, w, k·k·c], ordered (dy, dx, c) like the weight
  }
  const y = np.matmul(cols.reshape([b, h * w, k * k * c]), p.weight.reshape([k * k * c, o])).reshape([b, h, w, o]); // [b, h, w, o]
  return p.bias ? y.add(p.bias) : y;
}

/**
 * Group norm over channels-last maps: channels split into `groups` contiguous groups; each (image, group) is
 * normalised over its pixels and channels, then scaled and shifted per channel (PyTorch `nn.GroupNorm`, biased
 * variance). Consumes `p` (weight, bias [c]) and `x` [b, h, w, c]; returns [b, h, w, c].
 */
export function groupNorm(p: Norm, x: JArray, groups: number, eps = 1e-5): JArray {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  if (c % groups !== 0) throw new Error(`groupNorm: ${c} channels do not split into ${groups} groups`);
  const xg = x.reshape([b, h * w, groups, c / groups]); // [b, h·w, G, c/G]
  const mean = np.mean(xg.ref, [1, 3], { keepdims: true }); // [b, 1, G, 1]
  const xc = xg.sub(mean); // [b, h·w, G, c/G]
  const variance = np.mean(np.square(xc.ref), [1, 3], { keepdims: true }); // [b, 1, G, 1]
  const y = xc.mul(np.reciprocal(np.sqrt(variance.add(eps)))).reshape([b, h, w, c]).mul(p.weight); // [b, h, w, c]
  return p.bias ? y.add(p.bias) : y;
}

/** `x.slice` along one axis. Consumes `x`. */
function sliceAxis(x: JArray, axis: number, start: number, end: number): JArray {
  const ranges = Array.from({ length: axis + 1 }, (_, i): [] | [number, number] => (i === axis ? [start, end] : []));
  return x.slice(...ranges);
}

/** Bilinear ×2 along one axis with half-pixel centres and edge clamping. Consumes `x`. */
function upsampleAxis(x: JArray, axis: number): JArray {
  const n = x.shape[axis]!;
  const prev = np.concatenate([sliceAxis(x.ref, axis, 0, 1), sliceAxis(x.ref, axis, 0, n - 1)], axis); // x[i − 1], clamped
  const next = np.concatenate([sliceAxis(x.ref, axis, 1, n), sliceAxis(x.ref, axis, n - 1, n)], axis); // x[i + 1], clamped
  const even = x.ref.mul(0.75).add(prev.mul(0.25)); // output 2i reads x at i − 0.25
  const odd = x.mul(0.75).add(next.mul(0.25)); // output 2i + 1 reads x at i + 0.25
  const shape = [...even.shape];
  shape[axis] = 2 * n;
  return np.stack([even, odd], axis + 1).reshape(shape); // interleaved: …, 2n, …
}

/**
 * Bilinear ×2 upsampling with half-pixel centres (PyTorch `F.interpolate(scale_factor=2, mode="bilinear",
 * align_corners=False)`): output pixel 2i (2i + 1) is 0.75·x[i] + 0.25·x[i − 1] (x[i + 1]), clamped at the
 * edges, per axis. Shift-and-add rather than matmuls: linear in the pixel count.
 * Consumes `x` [b, h, w, c]; returns [b, 2h, 2w, c].
 */
export function upsample2x(x: JArray): JArray {
  return upsampleAxis(upsampleAxis(x, 1), 2);
}
