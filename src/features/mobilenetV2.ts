/**
 * The bundled frozen backbone: Keras's ImageNet MobileNetV2 (width 1.0, 224² training size) as shipped inside the
 * npm package `nsfwjs` (MIT; `nsfwjs/models/mobilenet_v2`, a tfjs layers-model with uint8-quantised weights).
 * nsfwjs fine-tuned only the layers from `block_11` on for its own classes; everything up to `block_10_project_BN`
 * was frozen at the Keras ImageNet weights, so we use that trunk only (stride ≤ 16). The weights run in our engine
 * (src/features/kerasGraph.ts); tfjs is never used at run time. The trunk is built from the files' contents
 * (`mobilenetV2FromFiles`: bytes in, no Node API, so it runs in a browser too: the viewer ships the same files as
 * assets of its page); under Node, `loadMobilenetV2` reads them offline from the installed package first.
 *
 * Feature taps (strides relative to the input; channels):
 * | tap                    | stride | channels | use                                  |
 * |------------------------|-------:|---------:|--------------------------------------|
 * | `block_2_add`          | 4      | 24       | perceptual loss                      |
 * | `block_5_add`          | 8      | 32       | perceptual loss                      |
 * | `block_6_expand_relu`  | 8      | 192      | patch features for an 8-px token grid |
 * | `block_9_add`          | 16     | 64       | perceptual loss                      |
 * | `block_10_expand_relu` | 16     | 384      | patch features for a 16-px token grid |
 * Input: RGB in [0, 1] (we map it to Keras's [-1, 1]); any size that is a multiple of 16.
 */
import type { Array as JArray } from "@jax-js/jax";
import { WildrayzerError } from "../engine/errors.ts";
import { buildKerasGraph, disposeKerasGraph, runKerasGraph, type KerasGraph } from "./kerasGraph.ts";
import { decodeTfjsWeights, type ManifestGroup } from "./tfjsWeights.ts";

export const MOBILENET_TAPS = {
  stride4: "block_2_add",
  stride8: "block_5_add",
  patch8: "block_6_expand_relu",
  stride16: "block_9_add",
  patch16: "block_10_expand_relu",
} as const;
export type MobilenetTap = (typeof MOBILENET_TAPS)[keyof typeof MOBILENET_TAPS];

/** The last layer we build: nothing after it is needed (and nothing after it is ImageNet-pure). */
const LAST_LAYER = "block_10_expand_relu";

/** The backbone's two files: the tfjs `model.json` (topology and weights manifest) and its weight shard's bytes. */
export type MobilenetV2Files = { modelJson: { modelTopology: unknown; weightsManifest: ManifestGroup[] }; shard: Uint8Array };

/** Where the files come from, for error messages. */
export const MOBILENET_SOURCE = "nsfwjs/models/mobilenet_v2";

/** Node: the raw model.json and weight bytes from the installed `nsfwjs` package (its modules hold them as base64). */
export async function loadNsfwjsMobilenetFiles(): Promise<MobilenetV2Files> {
  let mod: { MobileNetV2Model: { modelJson: () => Promise<{ default: unknown }>; weightBundles: (() => Promise<{ default: string }>)[] } };
  try {
    mod = (await import("nsfwjs/models/mobilenet_v2")) as unknown as typeof mod;
  } catch (err) {
    throw new WildrayzerError(`the bundled backbone needs the npm package nsfwjs (run npm install): ${(err as Error).message.split("\n")[0]}`, { cause: err });
  }
  const modelJson = (await mod.MobileNetV2Model.modelJson()).default as MobilenetV2Files["modelJson"];
  const parts = await Promise.all(mod.MobileNetV2Model.weightBundles.map(async (b) => Buffer.from((await b()).default, "base64")));
  const shard = new Uint8Array(Buffer.concat(parts));
  return { modelJson, shard };
}

export type FeatureExtractor = {
  name: string;
  /** Output channels per tap. */
  channels: Map<string, number>;
  /**
   * Consumes `images` [b, 3, h, w] in [0, 1] (h, w multiples of 16); returns the requested taps, each
   * [b, c, h/s, w/s]. Differentiable with respect to the images.
   */
  extract(images: JArray, taps: readonly string[]): Map<string, JArray>;
  dispose(): void;
};

/**
 * The MobileNetV2 trunk from its files' contents (bytes in; no Node API: the viewer page calls this on the files it
 * fetched). `source` names the files in error messages.
 */
export function mobilenetV2FromFiles(files: MobilenetV2Files, source = MOBILENET_SOURCE): FeatureExtractor {
  const { modelJson, shard } = files;
  if (!modelJson || typeof modelJson !== "object" || !Array.isArray(modelJson.weightsManifest) || !modelJson.modelTopology) {
    throw new WildrayzerError(`${source}: not a tfjs model.json (expected modelTopology and weightsManifest)`);
  }
  const weights = decodeTfjsWeights(modelJson.weightsManifest, [shard], source);
  const graph: KerasGraph = buildKerasGraph(modelJson.modelTopology, weights, LAST_LAYER, source);
  return {
    name: "mobilenet_v2 (Keras ImageNet, via nsfwjs)",
    channels: graph.channels,
    extract(images, taps) {
      const [, , h, w] = images.shape as [number, number, number, number];
      if (h % 16 !== 0 || w % 16 !== 0) {
        images.dispose();
        throw new WildrayzerError(`features: image size ${w}×${h} must be a multiple of 16`);
      }
      return runKerasGraph(graph, images.mul(2).sub(1), taps);
    },
    dispose: () => disposeKerasGraph(graph),
  };
}

/** Node: the bundled MobileNetV2 trunk as a `FeatureExtractor`, read from the installed package. */
export async function loadMobilenetV2(): Promise<FeatureExtractor> {
  return mobilenetV2FromFiles(await loadNsfwjsMobilenetFiles());
}
