/**
 * The official WildRayZer / RayZer state dicts (PyTorch `model.state_dict()` key names) mapped onto our parameter
 * tree, with no random initialisation: every leaf is built from the file's values, so a paper-size model costs its
 * weights and nothing more. Linear weights are stored `[out, in]` by PyTorch and `[in, out]` here (transposed on
 * the way in). The loss network (`loss_computer.*`) and the motion-mask head (`motion_mask_predictor.*`, which
 * needs DINOv3) are not part of our core and are dropped. The mapping, key by key, is in docs/OFFICIAL.md.
 * Browser-safe: the file readers live in officialFile.ts.
 */
import { numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import { truncNormal } from "../engine/params.ts";
import { MODEL_PRESETS, ModelConfigSchema, type ModelConfig } from "./config.ts";
import type { RayZerParams } from "./rayzer.ts";

/** One tensor of a state dict, contiguous row-major float32. */
export type OfficialTensor = { shape: number[]; data: Float32Array };

/** One of our leaves: its dotted name, the official key, its shape here, and whether the official one is `[out, in]`. */
export type KeyMapping = { ours: string; official: string; shape: number[]; transpose: boolean };

const DROPPED_PREFIXES = ["loss_computer.", "motion_mask_predictor."];

function linearMap(ours: string, official: string, dIn: number, dOut: number, bias: boolean): KeyMapping[] {
  const out: KeyMapping[] = [{ ours: `${ours}.weight`, official: `${official}.weight`, shape: [dIn, dOut], transpose: true }];
  if (bias) out.push({ ours: `${ours}.bias`, official: `${official}.bias`, shape: [dOut], transpose: false });
  return out;
}

function blockMap(ours: string, official: string, cfg: ModelConfig): KeyMapping[] {
  const { d } = cfg;
  const dh = d / cfg.heads;
  const h = cfg.mlpRatio * d;
  return [
    { ours: `${ours}.norm1.weight`, official: `${official}.norm1.weight`, shape: [d], transpose: false },
    ...linearMap(`${ours}.qkv`, `${official}.attn.to_qkv`, d, 3 * d, false),
    { ours: `${ours}.qNorm.weight`, official: `${official}.attn.q_norm.weight`, shape: [dh], transpose: false },
    { ours: `${ours}.kNorm.weight`, official: `${official}.attn.k_norm.weight`, shape: [dh], transpose: false },
    ...linearMap(`${ours}.proj`, `${official}.attn.fc`, d, d, false),
    { ours: `${ours}.norm2.weight`, official: `${official}.norm2.weight`, shape: [d], transpose: false },
    ...linearMap(`${ours}.mlp.fc1`, `${official}.mlp.mlp.0`, d, h, false),
    ...linearMap(`${ours}.mlp.fc2`, `${official}.mlp.mlp.2`, h, d, false),
  ];
}

/**
 * Every leaf of our tree for `cfg` with the official key it comes from, in our tree's order. The official models
 * have no camera registers, a view-index embedding and a latent-only renderer; other configs throw.
 */
export function officialKeyMap(cfg: ModelConfig): KeyMapping[] {
  if (cfg.cameraRegisters !== 0 || cfg.cameraPool !== 1 || cfg.rendererReads !== "latent" || !cfg.viewIndexEmbedding) {
    throw new WildrayzerError("official weights need a config with no camera registers, no camera pooling, rendererReads latent and the view-index embedding");
  }
  const { d, patch: p } = cfg;
  const stack = (ours: string, official: string, n: number) => Array.from({ length: n }, (_, i) => blockMap(`${ours}.${i}`, `${official}.${i}`, cfg)).flat();
  const map: KeyMapping[] = [
    ...linearMap("tokenizer.proj", "image_tokenizer.1", p * p * 3, d, false),
    ...linearMap("tokenizer.pe.fc1", "pe_embedder.0", d, d, true),
    ...linearMap("tokenizer.pe.fc2", "pe_embedder.2", d, d, true),
    { ours: "cameraEstimator.camCode", official: "cam_code", shape: [1, d], transpose: false },
    ...linearMap("cameraEstimator.camPe.fc1", "temporal_pe_embedder.0", d, d, true),
    ...linearMap("cameraEstimator.camPe.fc2", "temporal_pe_embedder.2", d, d, true),
    ...stack("cameraEstimator.blocks", "transformer_encoder", cfg.layers.camera),
    ...linearMap("cameraEstimator.focalHead.fc1", "pose_predictor.canonical_k_head.0", d, d, true),
    ...linearMap("cameraEstimator.focalHead.fc2", "pose_predictor.canonical_k_head.2", d, 1, true),
    ...linearMap("cameraEstimator.poseHead.fc1", "pose_predictor.rel_head.0", 2 * d, d, true),
    ...linearMap("cameraEstimator.poseHead.fc2", "pose_predictor.rel_head.2", d, 9, true),
    ...linearMap("sceneEncoder.rayTokenizer", "target_pose_tokenizer.1", p * p * 6, d, false),
    { ours: "sceneEncoder.fuse.norm.weight", official: "mlp_fuse.0.weight", shape: [2 * d], transpose: false },
    ...linearMap("sceneEncoder.fuse.fc1", "mlp_fuse.1", 2 * d, d, true),
    ...linearMap("sceneEncoder.fuse.fc2", "mlp_fuse.3", d, d, true),
    { ours: "sceneEncoder.sceneCode", official: "scene_code", shape: [cfg.sceneTokens, d], transpose: false },
    ...stack("sceneEncoder.blocks", "transformer_encoder_geom", cfg.layers.encoder),
  ];
  if (cfg.maskedTokens === "noiseToken") map.push({ ours: "sceneEncoder.noiseToken", official: "noise_token", shape: [1, d], transpose: false });
  map.push(
    ...linearMap("renderer.rayTokenizer", "target_pose_tokenizer2.1", p * p * 6, d, false),
    { ours: "renderer.inNorm.weight", official: "decoder_ln.weight", shape: [d], transpose: false },
    ...stack("renderer.blocks", "transformer_decoder", cfg.layers.renderer),
    { ours: "renderer.outNorm.weight", official: "image_token_decoder.0.weight", shape: [d], transpose: false },
    ...linearMap("renderer.head", "image_token_decoder.1", d, p * p * 3, false),
  );
  return map;
}

/** Which official model a state dict is: WildRayZer has the MAE noise token or the motion head, RayZer neither. */
export function detectOfficialModel(keys: Iterable<string>): "official-wildrayzer-2view" | "official-rayzer-dl3dv" {
  for (const k of keys) if (k === "noise_token" || k.startsWith("motion_mask_predictor.")) return "official-wildrayzer-2view";
  return "official-rayzer-dl3dv";
}

/** Whether a list of tensor names looks like an official state dict (rather than one of our files). */
export function isOfficialLayout(keys: Iterable<string>): boolean {
  const set = new Set(keys);
  return set.has("cam_code") && set.has("scene_code") && set.has("image_tokenizer.1.weight");
}

/**
 * The model config of an official state dict: the preset (`official-wildrayzer-2view` or `official-rayzer-dl3dv`,
 * detected from the keys unless given), with the sizes the tensors fix read from them (width, heads, patch, layers,
 * scene tokens) and `overrides` for what they cannot tell (image size, views, input views).
 */
export function officialConfig(
  shapes: ReadonlyMap<string, number[]>,
  fileName: string,
  opts: { preset?: keyof typeof MODEL_PRESETS; overrides?: Partial<ModelConfig> } = {},
): { config: ModelConfig; preset: string } {
  const preset = opts.preset ?? detectOfficialModel(shapes.keys());
  const need = (k: string): number[] => {
    const s = shapes.get(k);
    if (!s) throw new WildrayzerError(`${fileName}: not an official WildRayZer/RayZer state dict (no ${k})`);
    return s;
  };
  const d = need("cam_code").at(-1)!;
  const dh = need("transformer_encoder.0.attn.q_norm.weight")[0]!;
  const patch = Math.round(Math.sqrt(need("image_tokenizer.1.weight")[1]! / 3));
  const count = (prefix: string) => {
    let n = 0;
    while (shapes.has(`${prefix}.${n}.norm1.weight`)) n++;
    return n;
  };
  const mlp = need("transformer_encoder.0.mlp.mlp.0.weight")[0]!;
  const base = MODEL_PRESETS[preset];
  const candidate = {
    ...base,
    d,
    heads: d / dh,
    mlpRatio: mlp / d,
    patch,
    sceneTokens: need("scene_code")[0]!,
    layers: { camera: count("transformer_encoder"), encoder: count("transformer_encoder_geom"), renderer: count("transformer_decoder") },
    ...opts.overrides,
  };
  const parsed = ModelConfigSchema.safeParse(candidate);
  if (!parsed.success) throw new WildrayzerError(`${fileName}: the config read from the weights is not valid: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return { config: parsed.data as ModelConfig, preset };
}

/** What a conversion kept, dropped and had to make up. */
export type ConversionReport = {
  /** Official keys not used (loss network, motion head, anything unknown), by prefix with counts. */
  dropped: { prefix: string; count: number }[];
  /** Our leaves the file lacked and how they were filled (e.g. the noise token from a fixed seed). */
  missing: { name: string; filled: string }[];
};

/**
 * Builds our parameter tree for `cfg` from an official state dict. `get(key)` returns a tensor (or undefined when
 * the file lacks it); it is called once per key, so a caller may read tensors lazily. A missing `noise_token` is
 * drawn from a fixed seed (N(0, 0.02), truncated; reported), any other missing key or a shape that does not match
 * throws one line listing them. Returns new arrays the caller owns.
 */
export async function officialToParams(
  keys: readonly string[],
  get: (key: string) => Promise<OfficialTensor | undefined> | OfficialTensor | undefined,
  shapes: ReadonlyMap<string, number[]>,
  cfg: ModelConfig,
  fileName: string,
): Promise<{ params: RayZerParams; report: ConversionReport }> {
  const map = officialKeyMap(cfg);
  const missing: string[] = [];
  const wrong: string[] = [];
  const report: ConversionReport = { dropped: [], missing: [] };
  for (const m of map) {
    const s = shapes.get(m.official);
    if (!s) {
      if (m.official === "noise_token") report.missing.push({ name: m.ours, filled: "N(0, 0.02) truncated, from the fixed seed 7 (the file has no noise_token)" });
      else missing.push(m.official);
      continue;
    }
    const want = m.transpose ? [m.shape[1]!, m.shape[0]!] : m.shape;
    const numel = (a: number[]) => a.reduce((x, y) => x * y, 1);
    const ok = m.official === "noise_token" ? numel(s) === numel(want) : s.join() === want.join();
    if (!ok) wrong.push(`${m.official} [${s}] (expected [${want}])`);
  }
  if (missing.length > 0 || wrong.length > 0) {
    const parts = [];
    if (missing.length) parts.push(`missing ${missing.slice(0, 6).join(", ")}${missing.length > 6 ? ` and ${missing.length - 6} more` : ""}`);
    if (wrong.length) parts.push(`wrong shape ${wrong.slice(0, 4).join(", ")}${wrong.length > 4 ? ` and ${wrong.length - 4} more` : ""}`);
    throw new WildrayzerError(`${fileName}: does not match the config (d ${cfg.d}, ${cfg.layers.camera}/${cfg.layers.encoder}/${cfg.layers.renderer} layers): ${parts.join("; ")}`);
  }
  const used = new Set(map.map((m) => m.official));
  const dropped = new Map<string, number>();
  for (const k of keys) {
    if (used.has(k)) continue;
    const prefix = DROPPED_PREFIXES.find((p) => k.startsWith(p)) ?? k;
    dropped.set(prefix, (dropped.get(prefix) ?? 0) + 1);
  }
  report.dropped = [...dropped].map(([prefix, count]) => ({ prefix, count }));

  const root: Record<string, unknown> = {};
  const made: JArray[] = [];
  try {
    for (const m of map) {
      let leaf: JArray;
      const t = shapes.has(m.official) ? await get(m.official) : undefined;
      if (t === undefined) {
        if (m.official !== "noise_token") throw new WildrayzerError(`${fileName}: ${m.official} could not be read`);
        leaf = truncNormal(random.key(7), m.shape, 0.02);
      } else leaf = m.transpose ? transposed(t, m.shape) : np.array(t.data).reshape(m.shape);
      made.push(leaf);
      setPath(root, m.ours, leaf);
    }
  } catch (err) {
    for (const a of made) a.dispose();
    throw err;
  }
  return { params: root as unknown as RayZerParams, report };
}

/** `[out, in]` host data → an `[in, out]` array (the transpose is done on the host: no device copy of both). */
function transposed(t: OfficialTensor, shape: number[]): JArray {
  const [rows, cols] = t.shape as [number, number]; // rows = out, cols = in
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
  return np.array(out).reshape(shape);
}

/** Sets `root.a.b.0.c = leaf`, creating objects, and lists where the next segment is a number. */
function setPath(root: Record<string, unknown>, dotted: string, leaf: JArray): void {
  const parts = dotted.split(".");
  let node: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    const nextIsIndex = /^\d+$/.test(parts[i + 1]!);
    const rec = node as Record<string, unknown>;
    rec[key] ??= nextIsIndex ? [] : {};
    node = rec[key] as Record<string, unknown>;
  }
  (node as Record<string, unknown>)[parts.at(-1)!] = leaf;
}
