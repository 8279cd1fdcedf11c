/**
 * Choosing a feature backbone by a `--features` value: `mobilenet` (the bundled default, src/features/mobilenetV2.ts)
 * or `<kind>:<file.safetensors>` with your own DINO weights (`dinov2_vits14`, `dinov2_vits14_reg`, `dinov3_vits16`;
 * src/features/dino.ts; short forms `dinov2:` and `dinov3:`). Every extractor names a patch-feature tap for the
 * pseudo-mask dissimilarity: MobileNetV2's stride-8 `block_6_expand_relu`, DINO's `patch`.
 */
import { WildrayzerError } from "../engine/errors.ts";
import { DINO_PRESETS, loadDino, type DinoKind } from "./dino.ts";
import { loadMobilenetV2, MOBILENET_TAPS, type FeatureExtractor } from "./mobilenetV2.ts";

export type LoadedFeatures = { extractor: FeatureExtractor; patchTap: string; label: string };

const SHORT: Record<string, DinoKind> = { dinov2: "dinov2_vits14", dinov2_reg: "dinov2_vits14_reg", dinov3: "dinov3_vits16" };

export async function loadFeatures(spec = "mobilenet"): Promise<LoadedFeatures> {
  if (spec === "mobilenet") return { extractor: await loadMobilenetV2(), patchTap: MOBILENET_TAPS.patch8, label: "MobileNetV2 (bundled)" };
  const m = /^([a-z0-9_]+):(.+)$/.exec(spec);
  const kind = m ? (SHORT[m[1]!] ?? m[1]!) : undefined;
  if (!m || !kind || !(kind in DINO_PRESETS)) {
    throw new WildrayzerError(`--features ${spec}: expected mobilenet, or KIND:FILE with KIND one of ${[...Object.keys(SHORT), ...Object.keys(DINO_PRESETS)].join(", ")}`);
  }
  return { extractor: loadDino(m[2]!, kind as DinoKind), patchTap: "patch", label: `${kind} (${m[2]})` };
}
