/**
 * The frozen backbone in the page: the bundled MobileNetV2's two files are assets of the build (the
 * `virtual:wildrayzer-backbone` module of `wildrayzer view`'s vite plugin, src/cli/view.ts, gives their URLs);
 * the worker fetches them from the page's own folder and builds the same trunk Node builds
 * (src/features/mobilenetV2.ts `mobilenetV2FromFiles`).
 */
import { modelJsonUrl, shardUrl, source } from "virtual:wildrayzer-backbone";
import { WildrayzerError } from "../engine/errors.ts";
import { mobilenetV2FromFiles, type FeatureExtractor, type MobilenetV2Files } from "../features/mobilenetV2.ts";

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new WildrayzerError(`${new URL(url).pathname}: could not fetch the backbone's weights (HTTP ${res.status}); rebuild the page with wildrayzer view --rebuild`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Fetches the backbone's files beside the page and builds the MobileNetV2 trunk. */
export async function loadPageBackbone(): Promise<FeatureExtractor> {
  const [json, shard] = await Promise.all([fetchBytes(modelJsonUrl), fetchBytes(shardUrl)]);
  const modelJson = JSON.parse(new TextDecoder().decode(json)) as MobilenetV2Files["modelJson"];
  return mobilenetV2FromFiles({ modelJson, shard }, source);
}
