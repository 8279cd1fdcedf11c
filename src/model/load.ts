/**
 * Model files → `{ config, params }`, validated. Two formats share one safetensors layout: `wildrayzer-model-v1`
 * (params only, usually F16: what the repository ships and `export` writes) and `wildrayzer-checkpoint-v1` (params
 * plus optimiser state: a training checkpoint, see src/train/checkpoint.ts). Both carry, as JSON in the
 * `wildrayzer` metadata entry, the run config they were trained with (its `model` part is the architecture), the
 * step and the training stage (1 = RayZer pretraining, 2 = motion-estimator distillation, 3 = masked training).
 *
 * Loading into a larger tree is explicit: with `extend`, parameter subtrees the file lacks (say the motion
 * estimator, when a stage-1 file is loaded into a model that has one) are freshly initialised and listed in
 * `initialised`; without it they are an error. Tensors the model does not have are always an error naming them.
 * This file works on bytes and runs in the browser too; src/model/loadFile.ts reads files in Node.
 */
import { random, type Array as JArray } from "@jax-js/jax";
import { WildrayzerError, formatIssues } from "../engine/errors.ts";
import { abstractTree, dispose, namedLeaves, rebuild, type ParamTree } from "../engine/params.ts";
import { decodeSafetensors, safetensorsToTree, type SafetensorsFile } from "../engine/safetensors.ts";
import { numpy as np } from "@jax-js/jax";
import { SynthConfigSchema, type SynthConfig } from "../data/config.ts";
import { ModelConfigSchema, type ModelConfig } from "./config.ts";
import { initRayZer, type RayZerParams } from "./rayzer.ts";

export const MODEL_FORMATS = ["wildrayzer-checkpoint-v1", "wildrayzer-model-v1"] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];
export type Stage = 1 | 2 | 3;

/**
 * What a model file says about itself. `run` is the whole run config as stored (src/train/checkpoint.ts parses
 * it); its `model` part (the architecture) and `data` part (the synthetic scenes it trained on, which evaluation
 * draws held-out scenes like) are validated here.
 */
export type ModelFileMeta = { format: ModelFormat; step: number; stage: Stage; banner?: string; model: ModelConfig; data: SynthConfig; run: Record<string, unknown> };

/** Decodes and validates a model file's bytes (`path` names it in messages); tensors are not turned into arrays. */
export function parseModelFile(bytes: Uint8Array, path: string): { meta: ModelFileMeta; file: SafetensorsFile } {
  const file = decodeSafetensors(bytes, path);
  const raw = file.metadata.wildrayzer;
  if (raw === undefined) throw new WildrayzerError(`${path}: not a wildrayzer model file (no "wildrayzer" metadata)`);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new WildrayzerError(`${path}: model metadata is not valid JSON`);
  }
  if (!MODEL_FORMATS.includes(m.format as ModelFormat) || typeof m.step !== "number") {
    throw new WildrayzerError(`${path}: unsupported model file format ${String(m.format)}`);
  }
  const stage = m.stage ?? 1;
  if (stage !== 1 && stage !== 2 && stage !== 3) throw new WildrayzerError(`${path}: unknown training stage ${String(m.stage)}`);
  const run = m.run as Record<string, unknown> | undefined;
  if (typeof run !== "object" || run === null) throw new WildrayzerError(`${path}: model metadata has no run config`);
  const model = ModelConfigSchema.safeParse(run.model);
  if (!model.success) throw new WildrayzerError(formatIssues(`${path}: model config`, model.error.issues));
  const data = SynthConfigSchema.safeParse(run.data);
  if (!data.success) throw new WildrayzerError(formatIssues(`${path}: data config`, data.error.issues));
  const banner = typeof m.banner === "string" ? { banner: m.banner } : {};
  return { meta: { format: m.format as ModelFormat, step: m.step, stage, ...banner, model: model.data, data: data.data as SynthConfig, run }, file };
}

/**
 * Fills the tree `like` from the file's tensors under `prefix` (e.g. `params.`). With `extend`, leaves the file
 * lacks keep their (fresh) values from `like` and are listed; without it they are an error, as are tensors of the
 * file that `like` does not have, and wrong shapes. Consumes `like`.
 */
export function fillTree<T extends ParamTree>(like: T, file: SafetensorsFile, path: string, prefix: string, extend = false): { tree: T; initialised: string[] } {
  const tensors = new Map([...file.tensors].filter(([name]) => name.startsWith(prefix)).map(([name, t]) => [name.slice(prefix.length), t]));
  const names = namedLeaves(like).map(([n]) => n);
  const initialised = extend ? names.filter((n) => !tensors.has(n)) : [];
  if (initialised.length === 0) {
    const tree = safetensorsToTree(like, { ...file, tensors }, path);
    return { tree, initialised };
  }
  const known = new Set(names);
  const unexpected = [...tensors.keys()].filter((n) => !known.has(n));
  if (unexpected.length > 0) {
    dispose(like);
    throw new WildrayzerError(`${path}: tensors the model does not have: ${unexpected.slice(0, 8).join(", ")}${unexpected.length > 8 ? `, … (${unexpected.length} in all)` : ""}`);
  }
  const tree = rebuild(like, (name: string, leaf: JArray) => {
    const t = tensors.get(name);
    if (!t) return leaf;
    if (t.shape.length !== leaf.shape.length || t.shape.some((s, i) => s !== leaf.shape[i])) {
      throw new WildrayzerError(`${path}: ${prefix}${name} has shape [${t.shape}], the model expects [${leaf.shape}]`);
    }
    leaf.dispose();
    return np.array(t.data, { shape: t.shape });
  });
  return { tree, initialised };
}

/** Top-level subtrees (dotted prefixes up to `depth` parts) of a list of leaf names, for messages. */
export function subtrees(names: readonly string[], depth = 1): string[] {
  return [...new Set(names.map((n) => n.split(".").slice(0, depth).join(".")))];
}

export type LoadOptions = { config?: ModelConfig; extend?: boolean; seed?: number };
export type LoadedModel = { params: RayZerParams; meta: ModelFileMeta; initialised: string[] };

/**
 * Loads the model parameters of a training checkpoint or a params-only model file. `config` (default: the file's
 * own) may describe a larger model; with `extend` its parameters the file lacks are freshly initialised from
 * `seed` and named in `initialised`.
 */
export function loadModelBytes(bytes: Uint8Array, path: string, opts: LoadOptions = {}): LoadedModel {
  const { meta, file } = parseModelFile(bytes, path);
  const config = opts.config ?? meta.model;
  // The structure to fill (values come from the file): traced shapes only, unless fresh leaves may be needed.
  const like = opts.extend ? initRayZer(random.key(opts.seed ?? 0), config) : abstractTree((k) => initRayZer(k, config));
  const { tree, initialised } = fillTree(like, file, path, "params.", opts.extend ?? false);
  return { params: tree, meta: { ...meta, model: config }, initialised };
}
