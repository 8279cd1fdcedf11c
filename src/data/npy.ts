/**
 * A reader for NumPy's `.npy` format (versions 1–3), enough for LLFF's `poses_bounds.npy`: little- or big-endian
 * float64/float32/int32/int64 arrays, C or Fortran order (returned in C order). Anything else is a one-line error
 * naming the file. Format reference: numpy.lib.format (magic `\x93NUMPY`, version, header length, a Python-dict
 * header `{'descr': '<f8', 'fortran_order': False, 'shape': (20, 17), }`, then the raw data).
 */
import { WildrayzerError } from "../engine/errors.ts";

export type NpyArray = { shape: number[]; data: Float64Array };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses `.npy` bytes; `file` names the source in errors. Values are returned as float64 in C order. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const fail = (why: string): never => {
    throw new WildrayzerError(`${file}: not a readable .npy file (${why})`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail("missing the \\x93NUMPY magic");
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("truncated header");
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    return fail(`unsupported version ${major}`);
  }
  if (offset + headerLen > bytes.length) fail("truncated header");
  const header = new TextDecoder().decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) return fail(`bad header ${JSON.stringify(header.trim())}`);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) fail(`bad shape (${shapeText})`);
  const kinds: Record<string, [number, (o: number, le: boolean) => number]> = {
    f8: [8, (o, le) => view.getFloat64(o, le)],
    f4: [4, (o, le) => view.getFloat32(o, le)],
    i4: [4, (o, le) => view.getInt32(o, le)],
    i8: [8, (o, le) => Number(view.getBigInt64(o, le))],
  };
  const order = descr[0];
  const kind = kinds[descr.slice(1)];
  if (!kind || (order !== "<" && order !== ">" && order !== "|")) return fail(`unsupported dtype ${descr} (expected float64, float32, int32 or int64)`);
  const [size, get] = kind;
  const le = order !== ">";
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  if (start + count * size > bytes.length) fail(`truncated data: shape (${shape.join(", ")}) needs ${count * size} bytes, the file has ${bytes.length - start}`);
  const flat = new Float64Array(count);
  for (let i = 0; i < count; i++) flat[i] = get(start + i * size, le);
  return { shape, data: fortran === "True" ? fortranToC(flat, shape) : flat };
}

/** Reorders a column-major (Fortran) array of `shape` to row-major. */
function fortranToC(src: Float64Array, shape: readonly number[]): Float64Array {
  const out = new Float64Array(src.length);
  const n = shape.length;
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < src.length; c++) {
    // c is the row-major index of idx; compute its column-major position
    let f = 0;
    let stride = 1;
    for (let d = 0; d < n; d++) {
      f += idx[d]! * stride;
      stride *= shape[d]!;
    }
    out[c] = src[f]!;
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Serialises a float64 C-order array as `.npy` v1.0 (for tests and for writing LLFF-style poses). */
export function writeNpy(shape: readonly number[], data: ArrayLike<number>): Uint8Array {
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = `${dict}${" ".repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.length * 8);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  for (let i = 0; i < data.length; i++) view.setFloat64(10 + header.length + i * 8, data[i]!, true);
  return out;
}
