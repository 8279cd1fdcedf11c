/**
 * The official WildRayZer / RayZer reference fixtures (test/fixtures/official/, made by the official PyTorch code;
 * see its manifest.md): a minimal safetensors reader that also keeps I64 tensors (our engine's reader takes floats
 * only), and helpers to compare our arrays with them.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

export const OFFICIAL_DIR = fileURLToPath(new URL("../fixtures/official/", import.meta.url));

export type FixtureTensor = { shape: number[]; data: Float32Array | BigInt64Array };

/** All tensors of a fixture file (F32 → Float32Array, I64 → BigInt64Array). */
export function readFixture(name: string): Map<string, FixtureTensor> {
  const bytes = readFileSync(`${OFFICIAL_DIR}${name}`);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, FixtureTensor>();
  for (const [k, v] of Object.entries(header)) {
    if (k === "__metadata__") continue;
    const [a, b] = v.data_offsets;
    const raw = bytes.subarray(8 + n + a, 8 + n + b);
    const copy = new Uint8Array(raw); // aligned copy
    if (v.dtype === "F32") out.set(k, { shape: v.shape, data: new Float32Array(copy.buffer) });
    else if (v.dtype === "I64") out.set(k, { shape: v.shape, data: new BigInt64Array(copy.buffer) });
    else throw new Error(`${name}: ${k} has dtype ${v.dtype}`);
  }
  return out;
}

/** The F32 tensor `key` of a fixture map (throws when absent). */
export function f32(m: Map<string, FixtureTensor>, key: string): { shape: number[]; data: Float32Array } {
  const t = m.get(key);
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`fixture tensor ${key} missing or not F32`);
  return t as { shape: number[]; data: Float32Array };
}

/** Asserts `ours` equals the fixture tensor to within `tol` (max abs), shapes included; returns the error. */
export function assertClose(ours: { shape: readonly number[]; data: ArrayLike<number> }, ref: { shape: number[]; data: Float32Array }, tol: number, what: string): number {
  assert.deepEqual([...ours.shape], ref.shape, `${what}: shape`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.data.length; i++) {
    const e = Math.abs(ours.data[i]! - ref.data[i]!);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: max |ours − official| = ${worst} at flat index ${at} (ours ${ours.data[at]}, official ${ref.data[at]}), tolerance ${tol}`);
  return worst;
}
