/**
 * Checkpoints: the whole training state (params, AdamW moments, step counter) as one safetensors file, with the
 * resolved RunConfig and the step in its metadata. Written atomically (temp file + rename), so a kill mid-write
 * leaves the previous checkpoint intact; loading validates the config and every tensor's name and shape.
 */
import { random } from "@jax-js/jax";
import { WildrayzerError, formatIssues } from "../engine/errors.ts";
import { writeFileAtomic } from "../engine/files.ts";
import { initAdamW, type TrainState } from "../engine/optim.ts";
import { dispose } from "../engine/params.ts";
import { safetensorsToTree, treeToSafetensors, type SafetensorsFile } from "../engine/safetensors.ts";
import type { ModelFileMeta, Stage } from "../model/load.ts";
import { loadModel, readModelFile } from "../model/loadFile.ts";
import { initRayZer, type RayZerParams } from "../model/rayzer.ts";
import { RunConfigSchema, type RunConfig } from "./config.ts";

/** A training checkpoint's metadata: the model file's, with the run config parsed. */
export type CheckpointMeta = Omit<ModelFileMeta, "run"> & { run: RunConfig };

/** Writes `state` and `meta` to `path` atomically. Reads the state without consuming it. */
export async function saveCheckpoint(path: string, state: TrainState<RayZerParams>, meta: { run: RunConfig; step: number; stage: Stage; banner?: string }): Promise<void> {
  const full = { format: "wildrayzer-checkpoint-v1", ...meta };
  const bytes = await treeToSafetensors({ params: state.params, opt: state.opt }, { wildrayzer: JSON.stringify(full) });
  writeFileAtomic(path, bytes);
}

/** The stored run config, validated (for resuming and for commands that need the data settings a model was trained on). */
export function parseRunConfig(run: unknown, path: string): RunConfig {
  const parsed = RunConfigSchema.safeParse(run);
  if (!parsed.success) throw new WildrayzerError(formatIssues(`${path}: checkpoint config`, parsed.error.issues));
  return parsed.data as RunConfig;
}

/** Reads a checkpoint's metadata, its run config validated. */
export function readCheckpointMeta(path: string): { meta: CheckpointMeta; file: SafetensorsFile } {
  const { meta, file } = readModelFile(path);
  return { meta: { ...meta, run: parseRunConfig(meta.run, path) }, file };
}

/** Loads the full training state; the tree shape comes from the stored model config. */
export function loadCheckpoint(path: string): { state: TrainState<RayZerParams>; meta: CheckpointMeta } {
  const { meta, file } = readCheckpointMeta(path);
  if (meta.format !== "wildrayzer-checkpoint-v1") throw new WildrayzerError(`${path}: a model file without optimiser state; it cannot resume training (use it with eval or render)`);
  const params = initRayZer(random.key(0), meta.model); // the structure to fill; values come from the file
  const like = { params, opt: initAdamW(params) };
  const state = safetensorsToTree(like, file, path);
  return { state, meta };
}

/** Writes the params of checkpoint `from` as a params-only model file `to` (atomic), in F16 by default. */
export async function exportModel(from: string, to: string, dtype: "F16" | "F32" = "F16"): Promise<ModelFileMeta> {
  const { params, meta } = loadModel(from);
  const out: ModelFileMeta = { ...meta, format: "wildrayzer-model-v1" };
  const stored = { format: out.format, step: out.step, stage: out.stage, ...(out.banner ? { banner: out.banner } : {}), run: out.run };
  const bytes = await treeToSafetensors({ params }, { wildrayzer: JSON.stringify(stored) }, dtype);
  dispose(params);
  writeFileAtomic(to, bytes);
  return out;
}
