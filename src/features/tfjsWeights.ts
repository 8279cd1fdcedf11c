/**
 * TensorFlow.js weights: a manifest (`weightsManifest` of a `model.json`: groups of `{name, shape, dtype,
 * quantization?}` entries, stored back to back across the group's shard files) and the shards' bytes → named
 * float32 tensors. Supported: float32 and int32 stored as is; quantised entries (`quantization: {dtype: "uint8" |
 * "uint16", min, scale}` → min + scale·q, or `{dtype: "float16"}` → IEEE half). Anything else, or shards shorter
 * than the manifest says, is a one-line error naming `source`. Reference: tfjs-core `io/io_utils.ts`
 * (`decodeWeights`), tfjs-converter quantisation.
 */
import { WildrayzerError } from "../engine/errors.ts";
import { halfToFloat } from "../engine/safetensors.ts";

export type ManifestEntry = {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
};
export type ManifestGroup = { paths: string[]; weights: ManifestEntry[] };
export type NamedTensor = { shape: number[]; data: Float32Array };

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** Decodes every weight of `manifest`; `shards[g]` is the concatenated bytes of group g's shard files. */
export function decodeTfjsWeights(manifest: readonly ManifestGroup[], shards: readonly Uint8Array[], source: string): Map<string, NamedTensor> {
  if (shards.length !== manifest.length) throw new WildrayzerError(`${source}: ${manifest.length} weight groups but ${shards.length} shard buffers`);
  const out = new Map<string, NamedTensor>();
  manifest.forEach((group, g) => {
    const bytes = shards[g]!;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const stored = w.quantization?.dtype ?? w.dtype;
      const size = BYTES[stored];
      if (!size || (w.dtype !== "float32" && w.dtype !== "int32")) throw new WildrayzerError(`${source}: weight ${w.name} has unsupported dtype ${w.dtype}${w.quantization ? ` (quantised as ${stored})` : ""}`);
      if (offset + n * size > bytes.length) throw new WildrayzerError(`${source}: shard too short for weight ${w.name} (needs ${offset + n * size} bytes, has ${bytes.length})`);
      const data = new Float32Array(n);
      const q = w.quantization;
      if (q && (stored === "uint8" || stored === "uint16")) {
        if (typeof q.min !== "number" || typeof q.scale !== "number") throw new WildrayzerError(`${source}: weight ${w.name} is ${stored}-quantised without min and scale`);
        for (let i = 0; i < n; i++) data[i] = q.min + q.scale * (stored === "uint8" ? bytes[offset + i]! : view.getUint16(offset + 2 * i, true));
      } else if (stored === "float16") {
        for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
      } else if (stored === "int32") {
        for (let i = 0; i < n; i++) data[i] = view.getInt32(offset + 4 * i, true);
      } else {
        for (let i = 0; i < n; i++) data[i] = view.getFloat32(offset + 4 * i, true);
      }
      offset += n * size;
      out.set(w.name, { shape: [...w.shape], data });
    }
  });
  return out;
}
