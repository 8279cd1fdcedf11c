/**
 * Checkpoints: the whole training state (params, AdamW moments, step counter) as one safetensors file, with the
 * resolved RunConfig and the step in its metadata. Written atomically (temp file + rename), so a kill mid-write
 * leaves the previous checkpoint intact; loading validates the config and every tensor's name and shape.
 */
import { random } from "@jax-js/jax";
import { WildrayzerError, formatIssues } from "../engine/errors.ts";
import { readFileChecked, writeFileAtomic } from "../engine/files.ts";
import { initAdamW, type TrainState } from "../engine/optim.ts";
import { dispose } from "../engine/params.ts";
import { decodeSafetensors, safetensorsToTree, treeToSafetensors } from "../engine/safetensors.ts";
import { initRayZer, type RayZerParams } from "../model/rayzer.ts";
import { RunConfigSchema, type RunConfig } from "./config.ts";

/**
 * `wildrayzer-checkpoint-v1`: params + optimiser state (training, resumable). `wildrayzer-model-v1`: params only,
 * usually F16 (`exportModel`; what the repository ships). Both carry the run config and the step.
 */
export type CheckpointMeta = { format: "wildrayzer-checkpoint-v1" | "wildrayzer-model-v1"; run: RunConfig; step: number; stage: 1 };
const FORMATS = ["wildrayzer-checkpoint-v1", "wildrayzer-model-v1"];

/** Writes `state` and `meta` to `path` atomically. Reads the state without consuming it. */
export async function saveCheckpoint(path: string, state: TrainState<RayZerParams>, meta: Omit<CheckpointMeta, "format">): Promise<void> {
  const full: CheckpointMeta = { format: "wildrayzer-checkpoint-v1", ...meta };
  const bytes = await treeToSafetensors({ params: state.params, opt: state.opt }, { wildrayzer: JSON.stringify(full) });
  writeFileAtomic(path, bytes);
}

/** Reads the metadata only (for `eval` and `render`, which take the model config from the checkpoint). */
export function readCheckpointMeta(path: string): { meta: CheckpointMeta; bytes: Uint8Array } {
  const bytes = readFileChecked(path, "a wildrayzer checkpoint (.safetensors)");
  const file = decodeSafetensors(bytes, path);
  const raw = file.metadata?.wildrayzer;
  if (raw === undefined) throw new WildrayzerError(`${path}: not a wildrayzer checkpoint (no "wildrayzer" metadata)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new WildrayzerError(`${path}: checkpoint metadata is not valid JSON`);
  }
  const m = parsed as Partial<CheckpointMeta>;
  if (!FORMATS.includes(String(m.format)) || typeof m.step !== "number") {
    throw new WildrayzerError(`${path}: unsupported checkpoint format ${String(m.format)}`);
  }
  const run = RunConfigSchema.safeParse(m.run);
  if (!run.success) throw new WildrayzerError(formatIssues(`${path}: checkpoint config`, run.error.issues));
  return { meta: { format: m.format!, run: run.data as RunConfig, step: m.step, stage: 1 }, bytes };
}

/** Loads the full training state; the tree shape comes from the stored model config. */
export function loadCheckpoint(path: string): { state: TrainState<RayZerParams>; meta: CheckpointMeta } {
  const { meta, bytes } = readCheckpointMeta(path);
  if (meta.format !== "wildrayzer-checkpoint-v1") throw new WildrayzerError(`${path}: a model file without optimiser state; it cannot resume training (use it with eval or render)`);
  const params = initRayZer(random.key(0), meta.run.model); // the structure to fill; values come from the file
  const like = { params, opt: initAdamW(params) };
  const state = safetensorsToTree(like, decodeSafetensors(bytes, path), path);
  return { state, meta };
}

/** Loads only the model parameters, from a training checkpoint or a params-only model file. */
export function loadModel(path: string): { params: RayZerParams; meta: CheckpointMeta } {
  const { meta, bytes } = readCheckpointMeta(path);
  const file = decodeSafetensors(bytes, path);
  const tensors = new Map([...file.tensors].filter(([name]) => name.startsWith("params.")));
  const like = { params: initRayZer(random.key(0), meta.run.model) };
  const { params } = safetensorsToTree(like, { ...file, tensors }, path);
  return { params, meta };
}

/** Writes the params of checkpoint `from` as a params-only model file `to` (atomic), in F16 by default. */
export async function exportModel(from: string, to: string, dtype: "F16" | "F32" = "F16"): Promise<CheckpointMeta> {
  const { params, meta } = loadModel(from);
  const out: CheckpointMeta = { ...meta, format: "wildrayzer-model-v1" };
  const bytes = await treeToSafetensors({ params }, { wildrayzer: JSON.stringify(out) }, dtype);
  dispose(params);
  writeFileAtomic(to, bytes);
  return out;
}
