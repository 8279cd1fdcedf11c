/**
 * Reading official weights from disk (Node only): a PyTorch checkpoint `.pt` (through the safe reader in
 * engine/torchCheckpoint.ts: `ckpt["model"]`, tensors read one at a time by offset) or a safetensors file in the
 * official key layout. Returns our parameter tree and config (model/official.ts), never a random initialisation.
 * `loadAnyModel` is the one loader the commands use: our model files, official `.pt` files and official-layout
 * safetensors alike.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { WildrayzerError } from "../engine/errors.ts";
import { readFileChecked } from "../engine/files.ts";
import { decodeSafetensors, type SafetensorsFile } from "../engine/safetensors.ts";
import { openTorchCheckpoint, stateDictOf } from "../engine/torchCheckpoint.ts";
import { SYNTH_PRESETS, type SynthConfig } from "../data/config.ts";
import type { MODEL_PRESETS, ModelConfig } from "./config.ts";
import { loadModelBytes, type LoadedModel, type LoadOptions, type ModelFileMeta } from "./load.ts";
import { isOfficialLayout, officialConfig, officialToParams, type ConversionReport, type OfficialTensor } from "./official.ts";
import type { RayZerParams } from "./rayzer.ts";

export type OfficialLoad = {
  params: RayZerParams;
  config: ModelConfig;
  preset: string;
  report: ConversionReport;
  /** Top-level checkpoint entries other than `model` that were not read (optimizer, lr_scheduler, …). */
  otherEntries: string[];
};

export type OfficialLoadOptions = { preset?: keyof typeof MODEL_PRESETS; overrides?: Partial<ModelConfig> };

/** Whether `path` is a zip archive (a `torch.save` checkpoint) by its first four bytes `PK\x03\x04`. */
export function isZipFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false; // the reader that follows names the problem
  }
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32LE(0) === 0x04034b50;
  } catch {
    return false; // a directory, say: the reader that follows names the problem
  } finally {
    closeSync(fd);
  }
}

/** Loads official weights from a `.pt` or an official-layout `.safetensors`. */
export async function loadOfficialWeights(path: string, opts: OfficialLoadOptions = {}): Promise<OfficialLoad> {
  if (isZipFile(path)) {
    const ckpt = await openTorchCheckpoint(path);
    try {
      const { tensors, otherKeys } = stateDictOf(ckpt.root, "model", path);
      const shapes = new Map([...tensors].map(([k, t]) => [k, t.shape]));
      const { config, preset } = officialConfig(shapes, path, opts);
      const get = async (k: string): Promise<OfficialTensor | undefined> => {
        const t = tensors.get(k);
        return t && { shape: t.shape, data: await ckpt.read(t, k) };
      };
      const { params, report } = await officialToParams([...tensors.keys()], get, shapes, config, path);
      return { params, config, preset, report, otherEntries: otherKeys };
    } finally {
      await ckpt.close();
    }
  }
  return officialFromSafetensors(decodeSafetensors(readFileChecked(path, "official weights (.pt or .safetensors)"), path), path, opts);
}

/** Official weights from a decoded safetensors file in the official key layout. */
export async function officialFromSafetensors(file: SafetensorsFile, path: string, opts: OfficialLoadOptions = {}): Promise<OfficialLoad> {
  const shapes = new Map([...file.tensors].map(([k, t]) => [k, t.shape]));
  if (!isOfficialLayout(shapes.keys())) throw new WildrayzerError(`${path}: not an official WildRayZer/RayZer state dict (no cam_code, scene_code, image_tokenizer.1.weight)`);
  const { config, preset } = officialConfig(shapes, path, opts);
  const { params, report } = await officialToParams([...file.tensors.keys()], (k) => file.tensors.get(k), shapes, config, path);
  return { params, config, preset, report, otherEntries: [] };
}

/** The run config stored with converted official weights: the model, and the nearest synthetic-data preset. */
export function officialRun(config: ModelConfig, extra: Record<string, unknown>): { data: SynthConfig; model: ModelConfig } & Record<string, unknown> {
  const size = [32, 64, 128, 256].includes(config.imageSize) ? (config.imageSize as SynthConfig["size"]) : 32;
  return { data: { ...SYNTH_PRESETS.tiny, size, frames: Math.max(SYNTH_PRESETS.tiny.frames, config.views) }, model: config, ...extra };
}

/**
 * Loads any model file: ours (`wildrayzer-model-v1` / `-checkpoint-v1`), an official `.pt`, or an official-layout
 * safetensors (converted on the fly; `official` says what was dropped and filled). Official files take their
 * config from `officialOpts`.
 */
export async function loadAnyModel(path: string, opts: LoadOptions = {}, officialOpts: OfficialLoadOptions = {}): Promise<LoadedModel & { official?: OfficialLoad }> {
  let file: SafetensorsFile | undefined;
  let bytes: Uint8Array | undefined;
  if (!isZipFile(path)) {
    bytes = readFileChecked(path, "a wildrayzer model file, or official weights (.pt)");
    file = decodeSafetensors(bytes, path);
    if (file.metadata.wildrayzer !== undefined || !isOfficialLayout(file.tensors.keys())) return loadModelBytes(bytes, path, opts);
  }
  const official = file ? await officialFromSafetensors(file, path, officialOpts) : await loadOfficialWeights(path, officialOpts);
  const run = officialRun(official.config, { official: { from: path, preset: official.preset } });
  const meta: ModelFileMeta = { format: "wildrayzer-model-v1", step: 0, stage: 1, model: official.config, data: run.data, run };
  return { params: official.params, meta, initialised: official.report.missing.map((m) => m.name), official };
}
