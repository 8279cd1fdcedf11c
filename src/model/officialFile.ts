/**
 * Reading official weights from disk (Node only): a PyTorch checkpoint `.pt` (through the safe reader in
 * engine/torchCheckpoint.ts: `ckpt["model"]`, tensors read one at a time by offset) or a safetensors file in the
 * official key layout. Returns our parameter tree and config (model/official.ts), never a random initialisation.
 */
import { WildrayzerError } from "../engine/errors.ts";
import { readFileChecked } from "../engine/files.ts";
import { decodeSafetensors } from "../engine/safetensors.ts";
import { openTorchCheckpoint, stateDictOf } from "../engine/torchCheckpoint.ts";
import type { MODEL_PRESETS, ModelConfig } from "./config.ts";
import { officialConfig, officialToParams, type ConversionReport, type OfficialTensor } from "./official.ts";
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

/** Whether `path` names a PyTorch checkpoint (by its zip magic), not a safetensors file. */
export function isTorchCheckpointPath(path: string): boolean {
  return /\.(pt|pth|ckpt|bin)$/i.test(path);
}

/** Loads official weights from a `.pt` or an official-layout `.safetensors`. */
export async function loadOfficialWeights(path: string, opts: OfficialLoadOptions = {}): Promise<OfficialLoad> {
  if (isTorchCheckpointPath(path)) {
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
  const file = decodeSafetensors(readFileChecked(path, "official weights (.pt or .safetensors)"), path);
  const shapes = new Map([...file.tensors].map(([k, t]) => [k, t.shape]));
  if (!shapes.has("cam_code")) throw new WildrayzerError(`${path}: not an official WildRayZer/RayZer state dict (no cam_code)`);
  const { config, preset } = officialConfig(shapes, path, opts);
  const get = (k: string): OfficialTensor | undefined => {
    const t = file.tensors.get(k);
    return t && { shape: t.shape, data: t.data };
  };
  const { params, report } = await officialToParams([...file.tensors.keys()], get, shapes, config, path);
  return { params, config, preset, report, otherEntries: [] };
}
