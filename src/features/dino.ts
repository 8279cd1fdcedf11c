/**
 * DINOv2 ViT-S/14 (plain and with 4 registers) and DINOv3 ViT-S/16 as frozen feature extractors: images
 * [b, 3, h, w] in [0, 1] → final-norm patch tokens as a [b, D, h/p, w/p] map (tap `patch`) and the class token
 * ([b, D, 1, 1], tap `cls`), D = 384. Pure functions over a params tree in the official layout, forward only in
 * float32 (differentiable with respect to the images).
 * Reference: facebookresearch/dinov2 @ b8931f7b (dinov2/models/vision_transformer.py, dinov2/layers/*,
 * hub/backbones.py) and facebookresearch/dinov3 @ 6876159a (dinov3/models/vision_transformer.py,
 * dinov3/layers/{rope_position_encoding,attention,block,layer_scale}.py, hub/backbones.py `dinov3_vits16`).
 *
 * Weights are bring-your-own; nothing DINO is bundled (DINOv3 weights are under Meta's DINOv3 licence). `loadDino`
 * takes ONE safetensors file holding the official `.pth` state dict under its official keys, e.g.
 * `safetensors.torch.save_file(torch.load("dinov2_vits14_pretrain.pth"), "dinov2_vits14.safetensors")` (F32,
 * F16 and BF16 are read): `patch_embed.proj.{weight [D,3,p,p], bias}`, `cls_token [1,1,D]`, `blocks.{i}.{norm1,
 * norm2}.{weight,bias}`, `blocks.{i}.attn.{qkv,proj}.{weight [out,in], bias}`, `blocks.{i}.ls{1,2}.gamma`,
 * `blocks.{i}.mlp.{fc1,fc2}.{weight,bias}`, `norm.{weight,bias}`; DINOv2 also `pos_embed [1, 1 + 37², D]` and
 * (`_reg`) `register_tokens [1,4,D]`; DINOv3 also `storage_tokens [1,4,D]`, `rope_embed.periods [D/heads/4]` and
 * `blocks.{i}.attn.qkv.bias_mask [3D]`. `mask_token` (training only) is accepted and ignored. Any other tensor,
 * a missing one or a wrong shape is one `WildrayzerError` line listing them all.
 *
 * Preprocessing inside `extract`: (x − mean) / std per channel with ImageNet mean (0.485, 0.456, 0.406) and std
 * (0.229, 0.224, 0.225), the official eval transform's Normalize (DINOv3's satellite weights use other values: set
 * `mean`/`std` in the config). No resize or crop: h and w must be multiples of the patch size.
 *
 * Architecture: patch embedding (conv, stride = patch, as a matmul over patches) → DINOv2: [cls, patches] + pos
 * embed, then the registers inserted after cls (no pos embed); DINOv3: [cls, storage tokens, patches] with no pos
 * embed → pre-norm blocks x + ls1·attn(norm1 x), x + ls2·mlp(norm2 x) (qkv bias, exact GELU; LayerNorm eps 1e-6
 * for DINOv2, 1e-5 for DINOv3's "layernormbf16") → final `norm`. DINOv3 rotates q and k of the patch tokens only
 * by 2-D RoPE: coordinates (i + 0.5)/n per axis ("separate"), mapped to [−1, 1], angles 2π·coord/period for the
 * row (first D/4 of a head) and column (next D/4), tiled twice; x·cos + rotate_half(x)·sin with rotate_half(x) =
 * [−x₂, x₁]. The k third of the qkv bias is multiplied by `bias_mask` (folded into the bias at load).
 * DINOv2 pos embed on another grid than 37×37: the official bicubic `F.interpolate` of the 37×37 table is
 * reproduced exactly as two interpolation matrices — plain bicubic (A = −0.75, edge clamp) with scale factor
 * (n + 0.1)/37 for `dinov2_vits14`, antialiased bicubic (PIL-style, A = −0.5, normalised weights) to the exact
 * size for `_reg`. Not implemented (training or other models only): masking, drop path, RoPE shift/jitter/rescale
 * augmentation, SwiGLU FFNs (ViT-g, ViT-S+), untied cls norms (ViT-7B).
 */
import { nn, numpy as np, type Array as JArray } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import { readFileChecked } from "../engine/files.ts";
import { layerNorm, linear, type Linear, type Norm } from "../engine/layers.ts";
import { dispose, ref } from "../engine/params.ts";
import { decodeSafetensors, type SafetensorsFile, checkTensors } from "../engine/safetensors.ts";
import type { FeatureExtractor } from "./mobilenetV2.ts";

type DinoCommon = {
  /** Patch side in pixels. */
  patch: number;
  /** Token width D. */
  d: number;
  depth: number;
  heads: number;
  /** MLP hidden width / D. */
  mlpRatio: number;
  /** LayerNorm epsilon (all norms). */
  eps: number;
  /** Per-channel input normalisation applied to images in [0, 1]. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
};
export type DinoV2Config = DinoCommon & {
  family: "dinov2";
  /** Register tokens (0, or 4 for the `_reg` models). */
  registers: number;
  /** Side of the square pos-embed grid in the file (518 / 14 = 37). */
  posGrid: number;
  /** How the pos embed goes to another grid: `bicubic` with scale factor (n + offset) / posGrid, or antialiased. */
  posInterp: "bicubic" | "bicubicAntialias";
  posInterpOffset: number;
};
export type DinoV3Config = DinoCommon & {
  family: "dinov3";
  storageTokens: number;
  /** RoPE coordinate normalisation (`pos_embed_rope_normalize_coords`). */
  ropeCoords: "separate" | "min" | "max";
};
export type DinoConfig = DinoV2Config | DinoV3Config;

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;
const VITS = { d: 384, depth: 12, heads: 6, mlpRatio: 4, ...IMAGENET }; // vit_small in both repositories
const DINOV2_VITS14: DinoV2Config = { family: "dinov2", ...VITS, patch: 14, eps: 1e-6, registers: 0, posGrid: 37, posInterp: "bicubic", posInterpOffset: 0.1 }; // hub: img_size 518, interpolate_offset 0.1
export const DINO_PRESETS = {
  dinov2_vits14: DINOV2_VITS14,
  dinov2_vits14_reg: { ...DINOV2_VITS14, registers: 4, posInterp: "bicubicAntialias", posInterpOffset: 0 }, // hub: antialias, offset 0
  dinov3_vits16: { family: "dinov3", ...VITS, patch: 16, eps: 1e-5, storageTokens: 4, ropeCoords: "separate" }, // hub: layernormbf16, 4 storage tokens, rope base 100
} satisfies Record<string, DinoConfig>;
export type DinoKind = keyof typeof DINO_PRESETS;

export type DinoBlockParams = {
  norm1: Norm;
  attn: { qkv: Linear; proj: Linear };
  ls1: { gamma: JArray };
  norm2: Norm;
  mlp: { fc1: Linear; fc2: Linear };
  ls2: { gamma: JArray };
};
/** Official names; Linear weights are stored [in, out] and the patch conv as a [3·p·p, D] matmul weight. */
export type DinoParams = {
  patch_embed: { proj: Linear };
  cls_token: JArray; // [1, 1, D]
  register_tokens?: JArray; // DINOv2 _reg [1, r, D]
  storage_tokens?: JArray; // DINOv3 [1, r, D]
  pos_embed?: JArray; // DINOv2 [1, 1 + M², D]
  rope_embed?: { periods: JArray }; // DINOv3 [dh/4]
  blocks: DinoBlockParams[];
  norm: Norm;
};

/** The official state-dict shapes for `cfg`: required tensors, and those accepted but unused. */
export function dinoTensorShapes(cfg: DinoConfig): { required: Map<string, number[]>; optional: Map<string, number[]> } {
  const { d, patch: p } = cfg;
  const hidden = Math.round(cfg.mlpRatio * d);
  const req = new Map<string, number[]>([["cls_token", [1, 1, d]], ["patch_embed.proj.weight", [d, 3, p, p]], ["patch_embed.proj.bias", [d]]]);
  switch (cfg.family) {
    case "dinov2":
      req.set("pos_embed", [1, 1 + cfg.posGrid ** 2, d]);
      if (cfg.registers > 0) req.set("register_tokens", [1, cfg.registers, d]);
      break;
    case "dinov3":
      if (cfg.storageTokens > 0) req.set("storage_tokens", [1, cfg.storageTokens, d]);
      req.set("rope_embed.periods", [d / cfg.heads / 4]);
      break;
  }
  for (let i = 0; i < cfg.depth; i++) {
    const b = `blocks.${i}`;
    for (const [name, shape] of [["norm1.weight", [d]], ["norm1.bias", [d]], ["attn.qkv.weight", [3 * d, d]], ["attn.qkv.bias", [3 * d]],
      ["attn.proj.weight", [d, d]], ["attn.proj.bias", [d]], ["ls1.gamma", [d]], ["norm2.weight", [d]], ["norm2.bias", [d]],
      ["mlp.fc1.weight", [hidden, d]], ["mlp.fc1.bias", [hidden]], ["mlp.fc2.weight", [d, hidden]], ["mlp.fc2.bias", [d]], ["ls2.gamma", [d]]] as const) {
      req.set(`${b}.${name}`, [...shape]);
    }
    if (cfg.family === "dinov3") req.set(`${b}.attn.qkv.bias_mask`, [3 * d]);
  }
  req.set("norm.weight", [d]).set("norm.bias", [d]);
  return { required: req, optional: new Map([["mask_token", [1, d]]]) };
}

/**
 * DINO parameters from a decoded file with the official keys (see the header). A file that does not match `cfg`
 * throws one `WildrayzerError` line listing the missing, unexpected and mis-shaped tensors. Returns new arrays.
 */
export function dinoParamsFromSafetensors(file: SafetensorsFile, cfg: DinoConfig, fileName: string): DinoParams {
  const { required, optional } = dinoTensorShapes(cfg);
  checkTensors(file, required, optional, fileName, `${describe(cfg)}`);
  const host = (name: string) => file.tensors.get(name)!;
  const tensor = (name: string) => np.array(host(name).data, { shape: host(name).shape });
  const transposed = (name: string, data = host(name).data): JArray => {
    const [rows, cols] = [host(name).shape[0]!, data.length / host(name).shape[0]!]; // [out, in…] → [in…, out]
    const t = new Float32Array(data.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = data[r * cols + c]!;
    return np.array(t, { shape: [cols, rows] });
  };
  const lin = (name: string): Linear => ({ weight: transposed(`${name}.weight`), bias: tensor(`${name}.bias`) });
  const norm = (name: string): Norm => ({ weight: tensor(`${name}.weight`), bias: tensor(`${name}.bias`) });
  const blocks = Array.from({ length: cfg.depth }, (_, i): DinoBlockParams => {
    const b = `blocks.${i}`;
    let qkvBias = tensor(`${b}.attn.qkv.bias`);
    if (cfg.family === "dinov3") { // LinearKMaskedBias: bias · bias_mask, in float32 as PyTorch
      const mask = host(`${b}.attn.qkv.bias_mask`).data;
      qkvBias.dispose();
      qkvBias = np.array(host(`${b}.attn.qkv.bias`).data.map((v, j) => v * mask[j]!));
    }
    return {
      norm1: norm(`${b}.norm1`), attn: { qkv: { weight: transposed(`${b}.attn.qkv.weight`), bias: qkvBias }, proj: lin(`${b}.attn.proj`) },
      ls1: { gamma: tensor(`${b}.ls1.gamma`) }, norm2: norm(`${b}.norm2`), mlp: { fc1: lin(`${b}.mlp.fc1`), fc2: lin(`${b}.mlp.fc2`) },
      ls2: { gamma: tensor(`${b}.ls2.gamma`) },
    };
  });
  const params: DinoParams = { patch_embed: { proj: lin("patch_embed.proj") }, cls_token: tensor("cls_token"), blocks, norm: norm("norm") };
  switch (cfg.family) {
    case "dinov2":
      params.pos_embed = tensor("pos_embed");
      if (cfg.registers > 0) params.register_tokens = tensor("register_tokens");
      break;
    case "dinov3":
      if (cfg.storageTokens > 0) params.storage_tokens = tensor("storage_tokens");
      params.rope_embed = { periods: tensor("rope_embed.periods") };
      break;
  }
  return params;
}

function describe(cfg: DinoConfig): string {
  const extra = cfg.family === "dinov2" ? `${cfg.registers} registers` : `${cfg.storageTokens} storage tokens`;
  return `${cfg.family} (patch ${cfg.patch}, width ${cfg.d}, depth ${cfg.depth}, ${cfg.heads} heads, ${extra})`;
}

/**
 * The forward pass. Shapes: b batch, h w pixels, p patch, hp = h/p, wp = w/p, n = hp·wp patch tokens, r extra
 * (register / storage) tokens, d width, nh heads, dh = d / nh. Consumes `p` and `images` [b, 3, h, w] in [0, 1];
 * returns the final-norm patch tokens [b, d, hp, wp] and class token [b, d].
 */
export function runDino(p: DinoParams, images: JArray, cfg: DinoConfig): { patch: JArray; cls: JArray } {
  const [b, , h, w] = images.shape as [number, number, number, number];
  const { patch: ps, d } = cfg;
  const [hp, wp] = [h / ps, w / ps];
  const n = hp * wp;
  const x = images.sub(np.array(new Float32Array(cfg.mean), { shape: [1, 3, 1, 1] })).div(np.array(new Float32Array(cfg.std), { shape: [1, 3, 1, 1] })); // [b, 3, h, w]
  const patches = x
    .reshape([b, 3, hp, ps, wp, ps]) // [b, 3, hp, pr, wp, pc]
    .transpose([0, 2, 4, 1, 3, 5]) // [b, hp, wp, 3, pr, pc]: the conv weight's (in, kh, kw) order
    .reshape([b, n, 3 * ps * ps]); // [b, n, 3·p·p]
  let tokens = linear(p.patch_embed.proj, patches); // [b, n, d]
  const cls = np.broadcastTo(p.cls_token, [b, 1, d]); // [b, 1, d]
  let seq: JArray;
  let rope: { sin: JArray; cos: JArray } | null = null;
  switch (cfg.family) {
    case "dinov2": {
      const pos = p.pos_embed!;
      const M = cfg.posGrid;
      const posCls = pos.ref.slice([], [0, 1]); // [1, 1, d]; pos.ref: the patch rows are read below
      const posPatch = hp === M && wp === M ? pos.slice([], [1, 1 + n]) : interpolatePosEmbed(pos.slice([], [1, 1 + M * M]), M, hp, wp, cfg); // [1, n, d]
      tokens = tokens.add(posPatch); // [b, n, d]
      const parts = [cls.add(posCls)]; // [b, 1, d]
      if (p.register_tokens) parts.push(np.broadcastTo(p.register_tokens, [b, cfg.registers, d])); // registers carry no pos embed
      seq = np.concatenate([...parts, tokens], 1); // [b, 1 + r + n, d]
      break;
    }
    case "dinov3": {
      const parts = [cls];
      if (p.storage_tokens) parts.push(np.broadcastTo(p.storage_tokens, [b, cfg.storageTokens, d]));
      seq = np.concatenate([...parts, tokens], 1); // [b, 1 + r + n, d]
      rope = ropeSinCos(p.rope_embed!.periods, hp, wp, 1 + cfg.storageTokens, cfg); // 2 × [1 + r + n, dh]
      break;
    }
  }
  const prefix = seq.shape[1]! - n;
  for (const blk of p.blocks) seq = runDinoBlock(blk, seq, rope && { sin: rope.sin.ref, cos: rope.cos.ref }, cfg); // .ref: rope is shared by every block
  if (rope) dispose([rope.sin, rope.cos]);
  const out = layerNorm(p.norm, seq, cfg.eps); // [b, 1 + r + n, d]
  return {
    patch: out.ref.slice([], [prefix, prefix + n]).reshape([b, hp, wp, d]).transpose([0, 3, 1, 2]), // [b, d, hp, wp]; out.ref: cls below
    cls: out.slice([], [0, 1]).reshape([b, d]), // [b, d]
  };
}

/**
 * One block: x + ls1 · attn(norm1 x), then x + ls2 · mlp(norm2 x), with RoPE on q and k when given (its rows for
 * the prefix tokens are the identity: sin 0, cos 1). Consumes everything; x [b, N, d] → [b, N, d].
 */
function runDinoBlock(p: DinoBlockParams, x: JArray, rope: { sin: JArray; cos: JArray } | null, cfg: DinoConfig): JArray {
  const [b, N, d] = x.shape as [number, number, number];
  const nh = cfg.heads;
  const dh = d / nh;
  const qkv = linear(p.attn.qkv, layerNorm(p.norm1, x.ref, cfg.eps)); // [b, N, 3d]; x.ref keeps x for the residual
  const [q0, k0, v] = np.split(qkv, 3, -1).map((t) => t.reshape([b, N, nh, dh]).transpose([0, 2, 1, 3])) as [JArray, JArray, JArray]; // 3 × [b, nh, N, dh]
  const [q, k] = rope ? [ropeApply(q0, rope.sin.ref, rope.cos.ref), ropeApply(k0, rope.sin, rope.cos)] : [q0, k0]; // .ref: k uses sin, cos too
  // Batched matmuls, not nn.dotProductAttention (jax-js 0.1.25 routes it through einsum, broken on Node 20).
  const attn = nn.softmax(np.matmul(q.mul(1 / Math.sqrt(dh)), k.transpose([0, 1, 3, 2])), -1); // [b, nh, N, N]
  const o = np.matmul(attn, v).transpose([0, 2, 1, 3]).reshape([b, N, d]); // [b, N, d]
  const h = x.add(linear(p.attn.proj, o).mul(p.ls1.gamma)); // [b, N, d]
  const m = linear(p.mlp.fc2, nn.gelu(linear(p.mlp.fc1, layerNorm(p.norm2, h.ref, cfg.eps)), { approximate: false })); // [b, N, d]; h.ref: residual
  return h.add(m.mul(p.ls2.gamma)); // [b, N, d]
}

/** x · cos + rotate_half(x) · sin, rotate_half(x) = [−x₂, x₁] (halves of the last axis). Consumes all; [b, nh, N, dh]. */
function ropeApply(x: JArray, sin: JArray, cos: JArray): JArray {
  const [x1, x2] = np.split(x.ref, 2, -1) as [JArray, JArray]; // 2 × [b, nh, N, dh/2]; x.ref: x · cos below
  return x.mul(cos).add(np.concatenate([x2.neg(), x1], -1).mul(sin)); // [b, nh, N, dh]
}

/**
 * DINOv3's RoPE tables for an hp×wp grid behind `prefix` untouched tokens (dinov3 RopePositionEmbedding.forward,
 * eval mode). Consumes `periods` [dh/4]; returns sin and cos [prefix + hp·wp, dh] (prefix rows 0 and 1).
 */
function ropeSinCos(periods: JArray, hp: number, wp: number, prefix: number, cfg: DinoV3Config): { sin: JArray; cos: JArray } {
  const n = hp * wp;
  const q = periods.shape[0]!;
  const dh = 4 * q;
  const [sh, sw] = cfg.ropeCoords === "separate" ? [hp, wp] : Array(2).fill(cfg.ropeCoords === "min" ? Math.min(hp, wp) : Math.max(hp, wp)); // coordinate divisors
  const coords = new Float32Array(2 * n); // 2π · (2 · (i + 0.5) / s − 1), row-major over the grid, (row, col)
  for (let i = 0; i < hp; i++) for (let j = 0; j < wp; j++) {
    coords[2 * (i * wp + j)] = 2 * Math.PI * (2 * ((i + 0.5) / sh) - 1);
    coords[2 * (i * wp + j) + 1] = 2 * Math.PI * (2 * ((j + 0.5) / sw) - 1);
  }
  const half = np.array(coords, { shape: [n, 2, 1] }).div(periods.reshape([1, 1, q])).reshape([n, 2 * q]); // [n, dh/2]: row angles, then column angles
  const angles = np.concatenate([half.ref, half], -1); // [n, dh]: tile(2)
  const sin = np.concatenate([np.zeros([prefix, dh]), np.sin(angles.ref)], 0); // [prefix + n, dh]
  const cos = np.concatenate([np.ones([prefix, dh]), np.cos(angles)], 0); // [prefix + n, dh]
  return { sin, cos };
}

/**
 * The DINOv2 pos embed of an M×M grid resized to rows×cols as `F.interpolate(mode="bicubic")` does it in
 * interpolate_pos_encoding (see `bicubicMatrix`). Consumes `grid` [1, M², c]; returns [1, rows·cols, c].
 */
export function interpolatePosEmbed(grid: JArray, M: number, rows: number, cols: number, cfg: Pick<DinoV2Config, "posInterp" | "posInterpOffset">): JArray {
  const c = grid.shape[2]!;
  const matrix = (out: number) => {
    const m = cfg.posInterp === "bicubicAntialias" ? bicubicMatrix(M, out, { antialias: true }) : bicubicMatrix(M, out, cfg.posInterpOffset ? { scaleFactor: (out + cfg.posInterpOffset) / M } : {});
    return np.array(m, { shape: [out, M] }).transpose([1, 0]); // [M, out]
  };
  const g = grid.reshape([M, M, c]).transpose([2, 0, 1]); // [c, M, M]
  const gw = np.matmul(g, matrix(cols)); // [c, M, cols]; 2-D matrices stay on the right (docs/ENGINE.md matmul bug)
  const gwh = np.matmul(gw.transpose([0, 2, 1]), matrix(rows)); // [c, cols, rows]
  return gwh.transpose([2, 1, 0]).reshape([1, rows * cols, c]); // [1, rows·cols, c]
}

/**
 * The [outSize, inSize] matrix of PyTorch's 1-D bicubic resampling (align_corners=False). Plain: source
 * x = (i + 0.5)/s − 0.5 with s = `scaleFactor` (or out/in), Keys cubic A = −0.75 on the 4 neighbours, indices
 * clamped to the edge (aten upsample_bicubic2d). Antialiased: PIL-style filter A = −0.5 centred at (i + 0.5)·in/out,
 * its support widened by in/out when shrinking, cut at the borders and normalised to sum 1 (aten
 * _upsample_bicubic2d_aa). test/features/dino.test.ts checks both against torch 1.13 `F.interpolate`.
 */
export function bicubicMatrix(inSize: number, outSize: number, opts: { antialias?: boolean; scaleFactor?: number }): Float32Array {
  const m = new Float64Array(outSize * inSize);
  const near = (x: number, a: number) => ((a + 2) * x - (a + 3)) * x * x + 1; // |x| ≤ 1
  const far = (x: number, a: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; // 1 < |x| < 2
  if (opts.antialias) {
    const scale = inSize / outSize;
    const support = scale >= 1 ? 2 * scale : 2;
    const inv = scale >= 1 ? 1 / scale : 1;
    const filter = (x: number) => (Math.abs(x) < 1 ? near(Math.abs(x), -0.5) : Math.abs(x) < 2 ? far(Math.abs(x), -0.5) : 0);
    for (let i = 0; i < outSize; i++) {
      const center = scale * (i + 0.5);
      const lo = Math.max(Math.trunc(center - support + 0.5), 0);
      const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
      let total = 0;
      for (let j = lo; j < hi; j++) total += (m[i * inSize + j] = filter((j - center + 0.5) * inv));
      if (total !== 0) for (let j = lo; j < hi; j++) m[i * inSize + j]! /= total;
    }
  } else {
    const scale = opts.scaleFactor ? 1 / opts.scaleFactor : inSize / outSize;
    for (let i = 0; i < outSize; i++) {
      const x = scale * (i + 0.5) - 0.5;
      const x0 = Math.floor(x);
      const t = x - x0;
      const w = [far(t + 1, -0.75), near(t, -0.75), near(1 - t, -0.75), far(2 - t, -0.75)];
      for (let k = 0; k < 4; k++) m[i * inSize + Math.min(Math.max(x0 - 1 + k, 0), inSize - 1)]! += w[k]!;
    }
  }
  return Float32Array.from(m);
}

/** A DINO model as a `FeatureExtractor` with taps `patch` [b, D, h/p, w/p] and `cls` [b, D, 1, 1]. Owns `params`. */
export function dinoExtractor(params: DinoParams, cfg: DinoConfig, name: string): FeatureExtractor {
  return {
    name,
    channels: new Map([["patch", cfg.d], ["cls", cfg.d]]),
    extract(images, taps) {
      const bad = (problem: string): never => {
        images.dispose();
        throw new WildrayzerError(`${name}: ${problem}`);
      };
      const [b, c, h, w] = images.shape;
      if (images.ndim !== 4 || c !== 3) bad(`images must be [b, 3, h, w], got [${images.shape}]`);
      if (h! % cfg.patch !== 0 || w! % cfg.patch !== 0) bad(`image size ${w}×${h} must be a multiple of the patch size ${cfg.patch} in both sides`);
      const unknown = taps.filter((t) => t !== "patch" && t !== "cls");
      if (unknown.length > 0) bad(`unknown tap ${unknown.join(", ")} (taps: patch, cls)`);
      const { patch, cls } = runDino(ref(params), images, cfg);
      const all = { patch, cls: cls.reshape([b!, cfg.d, 1, 1]) };
      const out = new Map([...new Set(taps)].map((t) => [t, all[t as keyof typeof all].ref] as const)); // one reference per tap returned
      dispose([all.patch, all.cls]);
      return out;
    },
    dispose: () => dispose(params),
  };
}

/** A DINO model from a decoded file (browser-safe; `loadDino` reads the file in Node). */
export function dinoFromSafetensors(file: SafetensorsFile, kind: DinoKind | DinoConfig, fileName: string): FeatureExtractor {
  const cfg = resolveKind(kind);
  const label = typeof kind === "string" ? kind : cfg.family;
  return dinoExtractor(dinoParamsFromSafetensors(file, cfg, fileName), cfg, `${label} (${fileName})`);
}

/**
 * Loads DINOv2 / DINOv3 from one safetensors file with the official keys (see the header). `kind` is a preset
 * name or a config (tests use reduced ones). A missing or unreadable file, an unknown kind, or tensors that do
 * not match throw one `WildrayzerError` line.
 */
export function loadDino(path: string, kind: DinoKind | DinoConfig): FeatureExtractor {
  resolveKind(kind); // an unknown kind fails before the file is read
  return dinoFromSafetensors(decodeSafetensors(readFileChecked(path, "DINO weights (.safetensors)"), path), kind, path);
}

function resolveKind(kind: DinoKind | DinoConfig): DinoConfig {
  if (typeof kind !== "string") return kind;
  if (!Object.hasOwn(DINO_PRESETS, kind)) throw new WildrayzerError(`unknown DINO model "${kind}" (known: ${Object.keys(DINO_PRESETS).join(", ")})`);
  return DINO_PRESETS[kind];
}
