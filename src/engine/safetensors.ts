/**
 * The safetensors format, both ways, with no Node imports (it runs in the browser viewer too). A file is an
 * 8-byte little-endian u64 header length N, then N bytes of JSON (`{"name": {"dtype", "shape", "data_offsets":
 * [begin, end]}, ..., "__metadata__": {string: string}}`, padded with spaces to a multiple of 8 as the reference
 * Rust implementation writes it), then the raw little-endian tensor bytes, offsets relative to the data start.
 * We write F32 and read F32, F16, BF16 and F64 into Float32Array (Node 20 has no Float16Array, so the half-float
 * conversions are our own). `treeToSafetensors` / `safetensorsToTree` bridge to parameter trees by dotted names.
 * Reference: https://github.com/huggingface/safetensors (format spec and `safetensors/src/tensor.rs`).
 */
import type { Array as JArray } from "@jax-js/jax";
import { numpy as np } from "@jax-js/jax";
import { WildrayzerError } from "./errors.ts";
import { dispose, namedLeaves, rebuild, type ParamTree } from "./params.ts";

/** One tensor to write. `data` holds the values row-major; its length must be the product of `shape`. */
export type TensorEntry = { name: string; shape: number[]; data: Float32Array };

/** A decoded file: tensors by name (in header order) and the string metadata (`{}` when absent). */
export type SafetensorsFile = {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
};

/** Bytes per element of every dtype the format names; the ones we read are in `READABLE`. */
const DTYPE_SIZES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};
const READABLE = ["F32", "F16", "BF16", "F64"];

/** True on little-endian hosts (all current browsers and Node platforms); big-endian takes the DataView path. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Encodes float32 tensors (and optional string metadata) as safetensors bytes, tensors in the order given.
 * A duplicate name, the reserved name `__metadata__` or a data length that does not match the shape is a bug in
 * the caller and throws a plain Error.
 */
export function encodeSafetensors(tensors: readonly TensorEntry[], metadata?: Record<string, string>, dtype: "F32" | "F16" = "F32"): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata; // first, as the reference writes it
  const size = dtype === "F16" ? 2 : 4;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === "__metadata__" || Object.hasOwn(header, t.name)) throw new Error(`encodeSafetensors: duplicate or reserved tensor name "${t.name}"`);
    const n = numel(t.shape);
    if (n !== t.data.length) throw new Error(`encodeSafetensors: "${t.name}" has ${t.data.length} values for shape [${t.shape}]`);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size * n] };
    offset += size * n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8; // pad with spaces so the data starts 8-byte aligned
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen, true); // u64 little-endian: low word, then a zero high word
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  if (dtype === "F16") {
    for (const t of tensors) for (let i = 0; i < t.data.length; i++, pos += 2) view.setUint16(pos, floatToHalf(t.data[i]!), true);
    return out;
  }
  for (const t of tensors) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + 4 * i, t.data[i]!, true);
    pos += t.data.byteLength;
  }
  return out;
}

type HeaderEntry = { name: string; dtype: string; shape: number[]; begin: number; end: number };

/**
 * Decodes safetensors bytes into float32 tensors. Every malformed input throws a `WildrayzerError` with one line
 * naming `fileName` and the problem: too short, a header length beyond the file, invalid JSON, a malformed entry,
 * an unknown or unsupported dtype, offsets out of range, overlapping, or not matching shape × dtype size, and
 * data cut off before the last tensor ends. Gaps between tensors and trailing bytes are accepted.
 */
export function decodeSafetensors(bytes: Uint8Array, fileName: string): SafetensorsFile {
  const fail = (problem: string): never => {
    throw new WildrayzerError(`${fileName}: ${problem}`);
  };
  if (bytes.length < 8) fail(`too short for a safetensors file (${bytes.length} bytes; the header length alone takes 8)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLen > bytes.length - 8) fail(`header length ${headerLen} goes beyond the end of the file (${bytes.length} bytes); not a safetensors file, or truncated`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (err) {
    fail(`header is not valid JSON (${oneLine(err)})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("header is not a JSON object");

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("__metadata__ is not an object of strings");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(parseEntry(name, raw, fail));
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.begin < prev.end) fail(`tensors "${prev.name}" [${prev.begin}, ${prev.end}] and "${cur.name}" [${cur.begin}, ${cur.end}] overlap in the data section`);
  }
  const needed = sorted.reduce((m, e) => Math.max(m, e.end), 0);
  if (needed > dataLen) fail(`truncated: the header describes ${needed} data bytes but only ${dataLen} follow it`);

  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of entries) tensors.set(e.name, { shape: e.shape, data: readFloats(bytes, dataStart + e.begin, dataStart + e.end, e.dtype) });
  return { tensors, metadata };
}

/** Validates one header entry (dtype, shape, offsets, size) and returns it typed. */
function parseEntry(name: string, raw: unknown, fail: (problem: string) => never): HeaderEntry {
  const where = `tensor "${name}"`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(`${where} is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== "string") fail(`${where} has no dtype`);
  const d = dtype as string;
  if (!(d in DTYPE_SIZES)) fail(`${where} has unknown dtype ${JSON.stringify(d)}`);
  if (!READABLE.includes(d)) fail(`${where} has dtype ${d}, which wildrayzer does not read (it reads ${READABLE.join(", ")})`);
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) fail(`${where} has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  const isOffset = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isOffset(offsets[0]) || !isOffset(offsets[1]) || offsets[0] > offsets[1]) {
    fail(`${where} has data_offsets ${JSON.stringify(offsets)} out of range (need [begin, end] with 0 <= begin <= end)`);
  }
  const [begin, end] = offsets as [number, number];
  const want = numel(shape as number[]) * DTYPE_SIZES[d]!;
  if (end - begin !== want) fail(`${where} has data_offsets [${begin}, ${end}] (${end - begin} bytes) but shape [${shape}] of ${d} needs ${want} bytes`);
  return { name, dtype: d, shape: shape as number[], begin, end };
}

/** Reads `bytes[start, end)` of `dtype` into a new Float32Array (copies, so alignment never matters). */
function readFloats(bytes: Uint8Array, start: number, end: number, dtype: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, end - start);
  switch (dtype) {
    case "F32": {
      // Copy through a new Uint8Array: a Node Buffer's `slice` is a view of its whole pool, so `.buffer` would
      // start at the wrong place.
      if (LITTLE_ENDIAN) return new Float32Array(new Uint8Array(bytes.subarray(start, end)).buffer);
      return Float32Array.from({ length: (end - start) / 4 }, (_, i) => view.getFloat32(4 * i, true));
    }
    case "F64":
      return Float32Array.from({ length: (end - start) / 8 }, (_, i) => view.getFloat64(8 * i, true));
    case "F16": {
      const table = halfTable();
      const out = new Float32Array((end - start) / 2);
      for (let i = 0; i < out.length; i++) out[i] = table[view.getUint16(2 * i, true)]!;
      return out;
    }
    case "BF16": {
      const words = new Uint32Array((end - start) / 2);
      for (let i = 0; i < words.length; i++) words[i] = view.getUint16(2 * i, true) << 16; // bf16 = top half of f32
      return new Float32Array(words.buffer);
    }
    default:
      throw new Error(`readFloats: unhandled dtype ${dtype}`); // parseEntry admits only READABLE dtypes
  }
}

let halfCache: Float32Array | null = null;

/** All 65,536 IEEE half-precision values as float32, built once (256 KB) on first use. */
function halfTable(): Float32Array {
  if (halfCache) return halfCache;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = halfToFloat(h);
  halfCache = t;
  return t;
}

/** One IEEE 754 binary16 bit pattern as a number: sign, 5 exponent bits (bias 15), 10 mantissa bits. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals: mant · 2^-14 / 2^10
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * A number → the nearest IEEE 754 binary16 bit pattern (round half to even; overflow → ±Inf, NaN kept).
 * Exact inverse of `halfToFloat` on every representable value.
 */
export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // rounds past the largest half (65504)
  if (a < 2 ** -14) return sign | roundEven(a / 2 ** -24); // subnormal: units of 2^-24 (may round up to the smallest normal)
  let exp = Math.floor(Math.log2(a));
  if (2 ** exp > a) exp -= 1; // guard log2 rounding
  if (2 ** (exp + 1) <= a) exp += 1;
  const mant = roundEven((a / 2 ** exp - 1) * 1024);
  return mant === 1024 ? sign | ((exp + 16) << 10) : sign | ((exp + 15) << 10) | mant;
}

function roundEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/**
 * A parameter tree as safetensors bytes, leaves named by their dotted paths (`blocks.3.qkv.weight`).
 * Reads every leaf through `.ref`, so the tree is not consumed (the caller keeps it, e.g. to keep training).
 * Float leaves of other widths are converted to float32; other dtypes are a bug and throw.
 */
export async function treeToSafetensors(tree: ParamTree, metadata?: Record<string, string>, dtype: "F32" | "F16" = "F32"): Promise<Uint8Array> {
  const leaves = namedLeaves(tree);
  const entries = await Promise.all(
    leaves.map(async ([name, x]): Promise<TensorEntry> => {
      if (!String(x.dtype).startsWith("float")) throw new Error(`treeToSafetensors: "${name}" has dtype ${x.dtype}; checkpoints hold floats only`);
      const arr = x.dtype === "float32" ? x.ref : x.ref.astype(np.float32); // .ref: reading consumes the array
      const data = await arr.data();
      return { name, shape: [...x.shape], data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>) };
    }),
  );
  return encodeSafetensors(entries, metadata, dtype);
}

/** How many names a mismatch message lists per kind before it says "and N more". */
const LIST_LIMIT = 8;

/**
 * Rebuilds a tree shaped like `like` from a decoded file: the structure and shapes come from `like` (e.g. the
 * model's init), the values from the file. Consumes `like` (its leaves are disposed, also when this throws) and
 * returns new float32 arrays the caller owns. A file that does not match throws one `WildrayzerError` line that
 * lists the missing, unexpected and mis-shaped tensors together.
 */
export function safetensorsToTree<T extends ParamTree>(like: T, file: SafetensorsFile, fileName: string): T {
  const leaves = namedLeaves(like);
  const expected = new Map(leaves.map(([name, x]) => [name, [...x.shape]]));
  const missing = leaves.map(([n]) => n).filter((n) => !file.tensors.has(n));
  const unexpected = [...file.tensors.keys()].filter((n) => !expected.has(n));
  const misShaped: string[] = [];
  for (const [name, shape] of expected) {
    const t = file.tensors.get(name);
    if (t && !sameShape(t.shape, shape)) misShaped.push(`${name} [${t.shape}] (expected [${shape}])`);
  }
  if (missing.length + unexpected.length + misShaped.length > 0) {
    dispose(like);
    throw mismatch(fileName, "the model", missing, unexpected, misShaped);
  }
  return rebuild(like, (name: string, likeLeaf: JArray) => {
    const t = file.tensors.get(name)!;
    likeLeaf.dispose();
    return np.array(t.data, { shape: t.shape });
  });
}

/** The one-line error `FILE: tensors do not match WHAT; missing …; unexpected …; wrong shape …` (empty kinds left out). */
function mismatch(fileName: string, what: string, missing: string[], unexpected: string[], misShaped: string[]): WildrayzerError {
  const parts = [
    missing.length ? `missing ${missing.length}: ${listNames(missing)}` : "",
    unexpected.length ? `unexpected ${unexpected.length}: ${listNames(unexpected)}` : "",
    misShaped.length ? `wrong shape ${misShaped.length}: ${listNames(misShaped)}` : "",
  ].filter((p) => p !== "");
  return new WildrayzerError(`${fileName}: tensors do not match ${what}; ${parts.join("; ")}`);
}

function listNames(names: string[]): string {
  const shown = names.slice(0, LIST_LIMIT).join(", ");
  return names.length > LIST_LIMIT ? `${shown} and ${names.length - LIST_LIMIT} more` : shown;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim();
}

/**
 * Checks a decoded file against the tensors a model needs (`required`) and may have (`optional`), by name and
 * shape; any mismatch throws one `WildrayzerError` line: `FILE: tensors do not match WHAT; missing …; unexpected …;
 * wrong shape …` (at most LIST_LIMIT names per kind).
 */
export function checkTensors(file: SafetensorsFile, required: ReadonlyMap<string, number[]>, optional: ReadonlyMap<string, number[]>, fileName: string, what: string): void {
  const missing = [...required.keys()].filter((n) => !file.tensors.has(n));
  const unexpected = [...file.tensors.keys()].filter((n) => !required.has(n) && !optional.has(n));
  const misShaped = [...file.tensors]
    .filter(([n, t]) => {
      const want = required.get(n) ?? optional.get(n);
      return want !== undefined && !sameShape(t.shape, want);
    })
    .map(([n, t]) => `${n} [${t.shape}] (expected [${required.get(n) ?? optional.get(n)}])`);
  if (missing.length + unexpected.length + misShaped.length === 0) return;
  throw mismatch(fileName, what, missing, unexpected, misShaped);
}
