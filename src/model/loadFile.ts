/**
 * Model files from disk (Node only; src/model/load.ts does the parsing and works on bytes anywhere).
 */
import { fileURLToPath } from "node:url";
import { readFileChecked } from "../engine/files.ts";
import { loadModelBytes, parseModelFile, type LoadedModel, type LoadOptions, type ModelFileMeta } from "./load.ts";
import type { SafetensorsFile } from "../engine/safetensors.ts";

/** The shipped static renderer (stage 1), used when a command is given no `--ckpt`. */
export const DEFAULT_MODEL = fileURLToPath(new URL("../../models/small.safetensors", import.meta.url));

/**
 * The shipped WildRayZer: the stage-1 model, its stage-2 motion estimator, and stage 3 (masked reconstruction on
 * dynamic scenes); the default for motion masks.
 */
export const DEFAULT_WILDRAYZER = fileURLToPath(new URL("../../models/wildrayzer-small.safetensors", import.meta.url));

/**
 * The RayZer arm of the WildRayZer comparison: the stage-1 model fine-tuned on the same dynamic scenes for the same
 * steps as stage 3, without masks (RESULTS.md, "WildRayZer vs RayZer").
 */
export const DEFAULT_RAYZER_DYNAMIC = fileURLToPath(new URL("../../models/rayzer-dynamic-small.safetensors", import.meta.url));

function readBytes(path: string): Uint8Array {
  return readFileChecked(path, "a wildrayzer model or checkpoint (.safetensors)");
}

/** Reads and validates a model file's metadata (its tensors decoded, not yet arrays). */
export function readModelFile(path: string): { meta: ModelFileMeta; file: SafetensorsFile } {
  return parseModelFile(readBytes(path), path);
}

/** Loads a model file's parameters (src/model/load.ts `loadModelBytes` says how a larger `config` is filled). */
export function loadModel(path: string, opts: LoadOptions = {}): LoadedModel {
  return loadModelBytes(readBytes(path), path, opts);
}
