/**
 * The RayZer forward as an ONNX graph, built from our parameter tree, for fast inference in ONNX Runtime
 * (docs/ENGINE.md, "ONNX Runtime inference"). Every function here mirrors one jax-js function of the model, op for
 * op and in the same order, so the two engines agree to float32 rounding:
 *   tokens.ts (tokenizer, sin-cos PE + MLP) · cameraEstimator.ts (camera tokens, registers, pooling, heads, 6D →
 *   R Gram–Schmidt of geometry/rotations.ts) · geometry/rays.ts (Plücker rays) · sceneEncoder.ts · renderer.ts ·
 *   engine/layers.ts (layer norm, QK-norm attention, GELU MLP, patchify).
 * A graph is built for one static shape (b samples × v views, the rendered views fixed); `cameras` makes the
 * cameras graph inputs (the diagnostics' `opts.cameras`) and `keep` adds a token keep-mask input.
 * Inputs: `images` [b, v, 3, h, w] (+ `c2w_in` [b, v, 4, 4], `fxfycxcy_in` [b, v, 4] normalised; + `keep` [b, k, n]).
 * Outputs: `renders` [b, r, 3, h, w], `c2w` [b, v, 4, 4], `fxfycxcy` [b, v, 4].
 */
import { numpy as np, type Array as JArray } from "@jax-js/jax";
import { OnnxGraph, type Sym } from "../engine/onnxGraph.ts";
import { namedLeaves, type ParamTree } from "../engine/params.ts";
import { gridSize, tokensPerView, type ModelConfig } from "./config.ts";
import { positionTable, sinCos } from "./tokens.ts";

/** Parameter values on the host by dotted name (`renderer.blocks.0.qkv.weight`). */
export type HostParams = Map<string, { data: Float32Array; shape: number[] }>;

/** Reads every leaf of a parameter tree to the host (float32). Does not consume the tree. */
export async function hostParams(tree: ParamTree): Promise<HostParams> {
  const out: HostParams = new Map();
  for (const [name, leaf] of namedLeaves(tree)) {
    const a = leaf as JArray;
    const data = (await a.ref.astype(np.float32).data()) as Float32Array;
    out.set(name, { data: Float32Array.from(data), shape: [...a.shape] });
  }
  return out;
}

export type OnnxExportOptions = {
  /** Samples per run. */
  batch: number;
  /** Views per sample (≤ cfg.views). */
  views: number;
  /** View indices to render (default: the targets inputViews … views−1). */
  render?: readonly number[];
  /** Take the cameras as inputs instead of estimating them. */
  cameras?: boolean;
  /** Add a token keep-mask input [b, k, n] for the scene encoder. */
  keep?: boolean;
};

/** Builds the graph; see the file header for inputs and outputs. Returns ONNX model bytes. */
export function exportRayZerOnnx(params: HostParams, cfg: ModelConfig, opts: OnnxExportOptions): Uint8Array {
  return new RayZerGraph(params, cfg).build(opts);
}

type LinearNames = { w: Sym; b?: Sym };

const FUSED_ATTENTION = process.env.WRZ_ONNX_MHA !== "0";

class RayZerGraph {
  private readonly g = new OnnxGraph();
  private readonly used = new Set<string>();

  constructor(
    private readonly params: HostParams,
    private readonly cfg: ModelConfig,
  ) {}

  private param(name: string): Sym {
    const p = this.params.get(name);
    if (!p) throw new Error(`ONNX export: the parameter tree has no ${name}`);
    this.used.add(name);
    return this.g.constant(p.data, p.shape, name);
  }

  private has(name: string): boolean {
    return this.params.has(name);
  }

  private lin(prefix: string): LinearNames {
    const w = this.param(`${prefix}.weight`);
    return this.has(`${prefix}.bias`) ? { w, b: this.param(`${prefix}.bias`) } : { w };
  }

  /** layers.ts `linear`: x @ W (+ b). */
  private linear(prefix: string, x: Sym): Sym {
    const { w, b } = this.lin(prefix);
    const y = this.g.matmul(x, w);
    return b ? this.g.add(y, b) : y;
  }

  private layerNorm(prefix: string, x: Sym): Sym {
    const w = this.param(`${prefix}.weight`);
    const b = this.has(`${prefix}.bias`) ? this.param(`${prefix}.bias`) : undefined;
    return this.g.layerNorm(x, w, b, this.cfg.eps);
  }

  /** layers.ts `rmsNorm`: x · 1/√(mean(x²) + eps) · w. */
  private rmsNorm(prefix: string, x: Sym): Sym {
    const g = this.g;
    const ms = g.mean(g.mul(x, x), -1);
    const y = g.mul(g.mul(x, g.unary("Reciprocal", g.unary("Sqrt", g.add(ms, this.cfg.eps)))), this.param(`${prefix}.weight`));
    return this.has(`${prefix}.bias`) ? g.add(y, this.param(`${prefix}.bias`)) : y;
  }

  /** tokens.ts `runPeMlp` and cameraEstimator.ts `runHead`: fc2(silu(fc1(x))). */
  private mlpSilu(prefix: string, x: Sym): Sym {
    return this.linear(`${prefix}.fc2`, this.g.silu(this.linear(`${prefix}.fc1`, x)));
  }

  /** layers.ts `runBlock` (pre-norm, QK-norm attention, GELU MLP). x [b, n, d]. */
  private block(prefix: string, x: Sym): Sym {
    const g = this.g;
    const [b, n, d] = x.shape as [number, number, number];
    const nh = this.cfg.heads;
    const dh = d / nh;
    const qkv = this.linear(`${prefix}.qkv`, this.layerNorm(`${prefix}.norm1`, x)); // [b, n, 3d]
    const [q, k, v] = [0, 1, 2].map((i) => g.reshape(g.slice(qkv, -1, i * d, (i + 1) * d), [b, n, nh, dh])) as [Sym, Sym, Sym];
    let o: Sym; // [b, n, d]
    if (FUSED_ATTENTION) {
      // QK-norm per head, then ONNX Runtime's fused multi-head attention (scale 1/√dh on the logits)
      const qn = g.reshape(this.rmsNorm(`${prefix}.qNorm`, q), [b, n, d]);
      const kn = g.reshape(this.rmsNorm(`${prefix}.kNorm`, k), [b, n, d]);
      o = g.multiHeadAttention(qn, kn, g.reshape(v, [b, n, d]), nh, 1 / Math.sqrt(dh));
    } else {
      const qh = g.transpose(g.mul(this.rmsNorm(`${prefix}.qNorm`, q), 1 / Math.sqrt(dh)), [0, 2, 1, 3]); // [b, nh, n, dh]
      const kt = g.transpose(this.rmsNorm(`${prefix}.kNorm`, k), [0, 2, 3, 1]); // [b, nh, dh, n]
      const vh = g.transpose(v, [0, 2, 1, 3]); // [b, nh, n, dh]
      const attn = g.softmax(g.matmul(qh, kt), -1); // [b, nh, n, n]
      o = g.reshape(g.transpose(g.matmul(attn, vh), [0, 2, 1, 3]), [b, n, d]); // [b, n, d]
    }
    const h = g.add(x, this.linear(`${prefix}.proj`, o)); // [b, n, d]
    const mlp = this.linear(`${prefix}.mlp.fc2`, g.gelu(this.linear(`${prefix}.mlp.fc1`, this.layerNorm(`${prefix}.norm2`, h))));
    return g.add(h, mlp);
  }

  private stack(prefix: string, layers: number, x: Sym): Sym {
    for (let i = 0; i < layers; i++) x = this.block(`${prefix}.${i}`, x);
    return x;
  }

  /** layers.ts `patchify`: [b, c, h, w] → [b, n, p·p·c]. */
  private patchify(x: Sym): Sym {
    const g = this.g;
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const p = this.cfg.patch;
    const hp = h / p;
    const wp = w / p;
    return g.reshape(g.transpose(g.reshape(x, [b, c, hp, p, wp, p]), [0, 2, 4, 3, 5, 1]), [b, hp * wp, p * p * c]);
  }

  /** tokens.ts `runTokenizer`. images [b, v, 3, h, w] → [b, v, n, d]. */
  private tokenizer(images: Sym): Sym {
    const g = this.g;
    const cfg = this.cfg;
    const [b, v, c, h, w] = images.shape as [number, number, number, number, number];
    const n = tokensPerView(cfg);
    const patches = this.patchify(g.reshape(g.sub(g.mul(images, 2), 1), [b * v, c, h, w])); // [b·v, n, p·p·3]
    const tokens = g.reshape(this.linear("tokenizer.proj", patches), [b, v, n, cfg.d]);
    const table = g.constant(positionTable(cfg).subarray(0, v * n * cfg.d), [v, n, cfg.d]);
    return g.add(tokens, this.mlpSilu("tokenizer.pe", table));
  }

  /** rotations.ts `normalizeLast`: v / max(|v|, 1e-12) over the last axis. */
  private normalizeLast(x: Sym): Sym {
    const g = this.g;
    return g.div(x, g.max(g.unary("Sqrt", g.sum(g.mul(x, x), -1)), 1e-12));
  }

  /** a × b over the last axis (size 3). */
  private cross(a: Sym, b: Sym): Sym {
    const g = this.g;
    const c = (x: Sym, i: number) => g.slice(x, -1, i, i + 1);
    return g.concat(
      [g.sub(g.mul(c(a, 1), c(b, 2)), g.mul(c(a, 2), c(b, 1))), g.sub(g.mul(c(a, 2), c(b, 0)), g.mul(c(a, 0), c(b, 2))), g.sub(g.mul(c(a, 0), c(b, 1)), g.mul(c(a, 1), c(b, 0)))],
      -1,
    );
  }

  /** rotations.ts `rot6dToMatrix`: [..., 6] → [..., 3, 3] with the b's as columns. */
  private rot6dToMatrix(x: Sym): Sym {
    const g = this.g;
    const lead = x.shape.slice(0, -1);
    const b1 = this.normalizeLast(g.slice(x, -1, 0, 3));
    const a2 = g.slice(x, -1, 3, 6);
    const proj = g.sum(g.mul(b1, a2), -1);
    const b2 = this.normalizeLast(g.sub(a2, g.mul(b1, proj)));
    const b3 = this.cross(b1, b2);
    const col = (t: Sym) => g.reshape(t, [...lead, 3, 1]);
    return g.concat([col(b1), col(b2), col(b3)], -1); // [..., 3, 3]
  }

  /** cameraEstimator.ts `runCameraEstimator`. tokens [b, v, n, d]. */
  private cameraEstimator(tokens: Sym): { c2w: Sym; fxfycxcy: Sym } {
    const g = this.g;
    const cfg = this.cfg;
    let imageTokens = tokens;
    if (cfg.cameraPool > 1) {
      const [b0, v0, , d0] = tokens.shape as [number, number, number, number];
      const q = gridSize(cfg) / cfg.cameraPool;
      const blocks = g.reshape(tokens, [b0, v0, q, cfg.cameraPool, q, cfg.cameraPool, d0]);
      imageTokens = g.reshape(g.mean(g.mean(blocks, 5), 3), [b0, v0, q * q, d0]);
    }
    const [b, v, n, d] = imageTokens.shape as [number, number, number, number];
    let cam = this.param("cameraEstimator.camCode"); // [1, d]
    if (cfg.viewIndexEmbedding) cam = g.add(cam, this.mlpSilu("cameraEstimator.camPe", g.constant(sinCos(d, Array.from({ length: v }, (_, i) => i)), [v, d])));
    else cam = g.expand(cam, [v, d]);
    const parts = [g.expand(g.reshape(cam, [1, v, d]), [b, v, d]), g.reshape(imageTokens, [b, v * n, d])];
    if (cfg.cameraRegisters > 0) parts.push(g.expand(g.reshape(this.param("cameraEstimator.registers"), [1, cfg.cameraRegisters, d]), [b, cfg.cameraRegisters, d]));
    const out = g.slice(this.stack("cameraEstimator.blocks", cfg.layers.camera, g.concat(parts, 1)), 1, 0, v); // [b, v, d]
    const tok0 = g.slice(out, 1, 0, 1); // [b, 1, d]
    const focal = g.add(this.mlpSilu("cameraEstimator.focalHead", tok0), cfg.focalInit); // [b, 1, 1]
    const pair = g.concat([g.expand(tok0, [b, v, d]), out], -1); // [b, v, 2d]
    const notFirst = g.constant(Float32Array.from({ length: v }, (_, i) => (i === 0 ? 0 : 1)), [1, v, 1]);
    const base = g.constant([1, 0, 0, 0, 1, 0, 0, 0, 0], [9]);
    const pose = g.add(g.mul(this.mlpSilu("cameraEstimator.poseHead", pair), notFirst), base); // [b, v, 9]
    const rot = this.rot6dToMatrix(g.slice(pose, -1, 0, 6)); // [b, v, 3, 3]
    const t = g.reshape(g.slice(pose, -1, 6, 9), [b, v, 3, 1]);
    const top = g.concat([rot, t], -1); // [b, v, 3, 4]
    const bottom = g.expand(g.constant([0, 0, 0, 1], [1, 1, 1, 4]), [b, v, 1, 4]);
    const c2w = g.concat([top, bottom], -2); // [b, v, 4, 4]
    const f = g.expand(focal, [b, v, 1]);
    const half = g.constant(new Float32Array(b * v * 2).fill(0.5), [b, v, 2]);
    return { c2w, fxfycxcy: g.concat([f, f, half], -1) };
  }

  /** rays.ts `pluckerRays` on [b, v, 4, 4] and pixel intrinsics [b, v, 4] → [b, v, 6, h, w]. */
  private pluckerRays(c2w: Sym, fxfycxcy: Sym, h: number, w: number): Sym {
    const g = this.g;
    const lead = c2w.shape.slice(0, -2);
    const n = lead.reduce((p, d) => p * d, 1);
    const m = g.reshape(c2w, [n, 4, 4]);
    const k = g.reshape(fxfycxcy, [n, 4, 1, 1]);
    const [fx, fy, cx, cy] = [0, 1, 2, 3].map((i) => g.slice(k, 1, i, i + 1)) as [Sym, Sym, Sym, Sym];
    const px = g.constant(Float32Array.from({ length: w }, (_, i) => i + 0.5), [1, 1, 1, w]);
    const py = g.constant(Float32Array.from({ length: h }, (_, i) => i + 0.5), [1, 1, h, 1]);
    const u = g.div(g.sub(px, cx), fx); // [n, 1, 1, w]
    const v = g.div(g.sub(py, cy), fy); // [n, 1, h, 1]
    const col = (j: number) => g.reshape(g.slice(g.slice(m, 1, 0, 3), 2, j, j + 1), [n, 3, 1, 1]);
    const dRaw = g.add(g.add(g.mul(col(0), u), g.mul(col(1), v)), col(2)); // [n, 3, h, w]
    const d = g.div(dRaw, g.unary("Sqrt", g.sum(g.mul(dRaw, dRaw), 1)));
    const o = g.expand(col(3), [n, 3, h, w]);
    const c = (x: Sym, i: number) => g.slice(x, 1, i, i + 1);
    const moment = g.concat([g.sub(g.mul(c(o, 1), c(d, 2)), g.mul(c(o, 2), c(d, 1))), g.sub(g.mul(c(o, 2), c(d, 0)), g.mul(c(o, 0), c(d, 2))), g.sub(g.mul(c(o, 0), c(d, 1)), g.mul(c(o, 1), c(d, 0)))], 1);
    return g.reshape(g.concat([moment, d], 1), [...lead, 6, h, w]);
  }

  /** sceneEncoder.ts `rayTokens`. rays [b, k, 6, h, w] → [b, k, n, d]. */
  private rayTokens(prefix: string, rays: Sym): Sym {
    const [b, k, c, h, w] = rays.shape as [number, number, number, number, number];
    const patches = this.patchify(this.g.reshape(rays, [b * k, c, h, w]));
    return this.g.reshape(this.linear(prefix, patches), [b, k, tokensPerView(this.cfg), this.cfg.d]);
  }

  /** rayzer.ts `takeViews` along axis 1. */
  private takeViews(x: Sym, idx: readonly number[]): Sym {
    const runs: [number, number][] = [];
    for (const i of idx) {
      const last = runs.at(-1);
      if (last && last[1] === i) last[1] = i + 1;
      else runs.push([i, i + 1]);
    }
    return this.g.concat(runs.map(([s, e]) => this.g.slice(x, 1, s, e)), 1);
  }

  build(opts: OnnxExportOptions): Uint8Array {
    const g = this.g;
    const cfg = this.cfg;
    const { batch: b, views: v } = opts;
    const h = cfg.imageSize;
    const w = cfg.imageSize;
    const k = cfg.inputViews;
    const n = tokensPerView(cfg);
    const d = cfg.d;
    if (v > cfg.views || v <= k) throw new Error(`ONNX export: ${v} views for a model of ${cfg.views} views and ${k} inputs`);
    const render = opts.render ?? Array.from({ length: v - k }, (_, i) => k + i);
    if (render.length === 0 || render.some((i) => i < 0 || i >= v)) throw new Error(`ONNX export: render views [${render}] out of range for ${v} views`);
    const images = g.input("images", [b, v, 3, h, w]);
    const tokens = this.tokenizer(images); // [b, v, n, d]
    const cams = opts.cameras ? { c2w: g.input("c2w_in", [b, v, 4, 4]), fxfycxcy: g.input("fxfycxcy_in", [b, v, 4]) } : this.cameraEstimator(tokens);
    const pixels = g.mul(cams.fxfycxcy, g.constant([w, h, w, h], [4]));
    const rays = this.pluckerRays(cams.c2w, pixels, h, w); // [b, v, 6, h, w]
    const inputIdx = Array.from({ length: k }, (_, i) => i);

    // scene encoder (sceneEncoder.ts runSceneEncoder)
    const pair = g.concat([this.takeViews(tokens, inputIdx), this.rayTokens("sceneEncoder.rayTokenizer", this.takeViews(rays, inputIdx))], -1); // [b, k, n, 2d]
    let fused = this.linear("sceneEncoder.fuse.fc2", g.silu(this.linear("sceneEncoder.fuse.fc1", this.layerNorm("sceneEncoder.fuse.norm", pair)))); // [b, k, n, d]
    if (opts.keep) fused = g.mul(fused, g.reshape(g.input("keep", [b, k, n]), [b, k, n, 1]));
    const inputs = g.reshape(fused, [b, k * n, d]);
    const S = cfg.sceneTokens;
    const code = g.expand(g.reshape(this.param("sceneEncoder.sceneCode"), [1, S, d]), [b, S, d]);
    const latent = g.slice(this.stack("sceneEncoder.blocks", cfg.layers.encoder, g.concat([code, inputs], 1)), 1, 0, S); // [b, S, d]

    // renderer (renderer.ts runRenderer)
    const t = render.length;
    const queries = g.reshape(this.rayTokens("renderer.rayTokenizer", this.takeViews(rays, render)), [b * t, n, d]);
    const context = cfg.rendererReads === "latentAndInputs" ? g.concat([latent, inputs], 1) : latent; // [b, m, d]
    const mm = context.shape[1]!;
    const shared = g.reshape(g.expand(g.reshape(context, [b, 1, mm, d]), [b, t, mm, d]), [b * t, mm, d]);
    const seq = this.layerNorm("renderer.inNorm", g.concat([queries, shared], 1));
    const out = g.slice(this.stack("renderer.blocks", cfg.layers.renderer, seq), 1, 0, n); // [b·t, n, d]
    const rgb = g.unary("Sigmoid", this.linear("renderer.head", this.layerNorm("renderer.outNorm", out))); // [b·t, n, p·p·3]
    const gs = gridSize(cfg);
    const p = cfg.patch;
    const img = g.reshape(g.transpose(g.reshape(rgb, [b * t, gs, gs, p, p, 3]), [0, 5, 1, 3, 2, 4]), [b, t, 3, h, w]);
    g.output(img, "renders");
    g.output(cams.c2w, "c2w");
    g.output(cams.fxfycxcy, "fxfycxcy");
    return g.encode();
  }
}
