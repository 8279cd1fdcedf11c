/**
 * A safe reader of PyTorch checkpoints (`torch.save`, zip format, torch ≥ 1.6). The file is a zip archive holding
 * `<name>/data.pkl` (the object graph, a pickle) and one raw little-endian file per tensor storage
 * (`<name>/data/<key>`). We read the zip's central directory (yauzl), run the pickle through our own small VM
 * that knows only the opcodes and globals `torch.load(weights_only=True)` accepts (dicts, lists, tuples, strings,
 * numbers, `OrderedDict`, `torch._utils._rebuild_tensor_v2`, the storage classes), and read each storage later,
 * by offset, through a file handle: a 4 GB checkpoint is never held in memory. Nothing in the file can run code:
 * any other opcode or global stops the read with one line naming it. Strided views and storage offsets are
 * honoured; F32, F16, BF16 and F64 tensors are read into Float32Array. See docs/OFFICIAL.md.
 */
import { open as fsOpen, type FileHandle } from "node:fs/promises";
import yauzl from "yauzl";
import { WildrayzerError } from "./errors.ts";
import { halfToFloat } from "./safetensors.ts";

export type TorchDtype = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

const STORAGE_DTYPES: Record<string, { dtype: TorchDtype; size: number }> = {
  FloatStorage: { dtype: "F32", size: 4 },
  HalfStorage: { dtype: "F16", size: 2 },
  BFloat16Storage: { dtype: "BF16", size: 2 },
  DoubleStorage: { dtype: "F64", size: 8 },
  LongStorage: { dtype: "I64", size: 8 },
  IntStorage: { dtype: "I32", size: 4 },
  ShortStorage: { dtype: "I16", size: 2 },
  CharStorage: { dtype: "I8", size: 1 },
  ByteStorage: { dtype: "U8", size: 1 },
  BoolStorage: { dtype: "BOOL", size: 1 },
};

/** A storage as the pickle names it (its bytes stay in the archive until read). */
export type TorchStorage = { readonly kind: "storage"; key: string; dtype: TorchDtype; itemSize: number; numel: number };
/** A tensor: a strided view into a storage. `offset` and `stride` count elements. */
export type TorchTensor = { readonly kind: "tensor"; storage: TorchStorage; offset: number; shape: number[]; stride: number[] };

/** A Python tuple (kept apart from lists so a reader can tell them apart). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
/** A Python dict or OrderedDict (insertion order kept); attributes set by BUILD (e.g. `_metadata`) are kept aside. */
export class PyDict {
  readonly map = new Map<string | number | boolean | null, PyValue>();
  attributes: PyValue = null;
}
/** An allowed global (a callable the VM knows how to apply). */
class PyGlobal {
  constructor(readonly name: string) {}
}
export type PyValue = null | boolean | number | string | Uint8Array | PyValue[] | PyTuple | PyDict | TorchTensor | TorchStorage | PyGlobal;

const ALLOWED_GLOBALS = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_parameter",
  "torch.Size",
  "_codecs.encode",
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

const MARK = Symbol("mark");
type StackItem = PyValue | typeof MARK;

/**
 * Runs a pickle (protocols 2–5) with the allow-list above and returns the object it builds. Any other opcode or
 * global, a malformed stream, or a stream that ends before STOP throws one `WildrayzerError` line naming `fileName`.
 * Every opcode consumes at least one byte, so a stream of n bytes runs at most n steps.
 */
export function unpickle(bytes: Uint8Array, fileName: string): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (msg: string): never => {
    throw new WildrayzerError(`${fileName}: ${msg}`);
  };
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`pickle data ends early (byte ${pos} of ${bytes.length}); the file is truncated or not a PyTorch checkpoint`);
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`pickle length ${v} is out of range`);
    return Number(v);
  };
  const raw = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const text = (n: number) => new TextDecoder("utf-8").decode(raw(n));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("pickle data ends inside a text line");
    const s = new TextDecoder("utf-8").decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };

  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const marks: number[] = [];
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks.at(-1)!)) fail("pickle stack underflow");
    const v = stack.pop()!;
    if (v === MARK) fail("pickle stack underflow");
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack.at(-1);
    if (v === undefined || v === MARK) fail("pickle stack underflow");
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail("pickle MARK missing");
    const items = stack.splice(m!) as PyValue[];
    return items;
  };
  const dictKey = (k: PyValue): string | number | boolean | null => {
    if (k === null || typeof k === "string" || typeof k === "number" || typeof k === "boolean") return k;
    return fail(`pickle dict key of type ${typeName(k)} is not supported`);
  };
  const setItems = (d: PyValue, kv: PyValue[]) => {
    if (!(d instanceof PyDict)) fail("pickle SETITEM(S) on something that is not a dict");
    if (kv.length % 2 !== 0) fail("pickle SETITEMS with an odd number of items");
    for (let i = 0; i < kv.length; i += 2) (d as PyDict).map.set(dictKey(kv[i]!), kv[i + 1]!);
  };
  const global = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) {
      fail(`refuses the pickle global ${full} (not a tensor or a container; only what torch.load(weights_only=True) accepts is read, and no code of the file is run)`);
    }
    return new PyGlobal(full);
  };

  while (true) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("pickle protocol above 5");
        break;
      case 0x95: // FRAME (a hint only)
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail("pickle ends with a malformed stack");
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x8f: // EMPTY_SET: read as a list
        stack.push([]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement of n bytes
        const n = u8();
        const b = raw(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail(`pickle integer ${v} is out of range`);
        stack.push(Number(v));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(raw(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(raw(u32()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(raw(u64()).slice());
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail("pickle APPEND on something that is not a list");
        (l as PyValue[]).push(v);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS (sets are read as lists)
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail(op === 0x65 ? "pickle APPENDS on something that is not a list" : "pickle ADDITEMS on something that is not a set");
        (l as PyValue[]).push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`pickle memo ${i} read before it was written`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("pickle STACK_GLOBAL without strings");
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: {
        // BINPERSID: torch's ('storage', StorageClass, key, location, numel)
        const pid = pop();
        stack.push(persistentStorage(pid, fail));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) fail("pickle REDUCE of something that is not an allowed global");
        if (!(args instanceof PyTuple)) fail("pickle REDUCE without an argument tuple");
        stack.push(applyGlobal((fn as PyGlobal).name, (args as PyTuple).items, fail));
        break;
      }
      case 0x62: {
        // BUILD: state on an OrderedDict (`_metadata`) or a tensor (ignored)
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.attributes = state;
        else if (!(obj !== null && typeof obj === "object" && "kind" in obj && obj.kind === "tensor")) fail(`pickle BUILD on a ${typeName(obj)}`);
        break;
      }
      case 0x30: // POP
        if (stack.length > 0 && stack.at(-1) === MARK) fail("pickle POP of a MARK");
        pop();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      default:
        fail(`refuses pickle opcode 0x${op.toString(16).padStart(2, "0")} ('${String.fromCharCode(op)}') at byte ${pos - 1} (not one torch.load(weights_only=True) accepts)`);
    }
  }
}

function typeName(v: PyValue): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return "list";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof PyDict) return "dict";
  if (v instanceof PyGlobal) return v.name;
  if (v instanceof Uint8Array) return "bytes";
  if (typeof v === "object") return v.kind;
  return typeof v;
}

function persistentStorage(pid: PyValue, fail: (m: string) => never): TorchStorage {
  if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== "storage") fail("pickle persistent id is not a torch storage");
  const [, cls, key, , numel] = (pid as PyTuple).items;
  if (!(cls instanceof PyGlobal) || !cls.name.startsWith("torch.")) fail("pickle storage without a storage class");
  const info = STORAGE_DTYPES[(cls as PyGlobal).name.slice("torch.".length)];
  if (!info) fail(`pickle storage class ${(cls as PyGlobal).name} is not supported`);
  if (typeof key !== "string" || !/^[\w.-]+$/.test(key)) fail("pickle storage key is not a plain name");
  if (typeof numel !== "number" || !Number.isInteger(numel) || numel < 0) fail("pickle storage size is not a non-negative integer");
  return { kind: "storage", key: key as string, dtype: info!.dtype, itemSize: info!.size, numel: numel as number };
}

function intTuple(v: PyValue, what: string, fail: (m: string) => never): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : fail(`${what} is not a tuple`);
  return (items as PyValue[]).map((x) => (typeof x === "number" && Number.isInteger(x) && x >= 0 ? x : fail(`${what} holds ${String(x)}, not a non-negative integer`)));
}

function applyGlobal(name: string, args: PyValue[], fail: (m: string) => never): PyValue {
  switch (name) {
    case "collections.OrderedDict":
      if (args.length !== 0) fail("OrderedDict with arguments is not supported");
      return new PyDict();
    case "torch._utils._rebuild_tensor":
    case "torch._utils._rebuild_tensor_v2": {
      const [storage, offset, size, stride] = args;
      if (!(storage && typeof storage === "object" && "kind" in storage && storage.kind === "storage")) fail(`${name} without a storage`);
      if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0) fail(`${name}: storage offset is not a non-negative integer`);
      const shape = intTuple(size!, `${name} size`, fail);
      const strides = intTuple(stride!, `${name} stride`, fail);
      if (shape.length !== strides.length) fail(`${name}: size and stride differ in length`);
      return { kind: "tensor", storage: storage as TorchStorage, offset: offset as number, shape, stride: strides };
    }
    case "torch._utils._rebuild_parameter": {
      const t = args[0];
      if (!(t && typeof t === "object" && "kind" in t && t.kind === "tensor")) fail("_rebuild_parameter without a tensor");
      return t!;
    }
    case "torch.Size":
      return new PyTuple(intTuple(args[0] ?? new PyTuple([]), "torch.Size", fail));
    case "_codecs.encode": {
      const [s] = args;
      if (typeof s !== "string") fail("_codecs.encode without a string");
      return Uint8Array.from(s as string, (c) => c.charCodeAt(0) & 0xff);
    }
    default:
      return fail(`cannot call ${name}`);
  }
}

/** An opened checkpoint: the unpickled object graph and a reader for its tensors. Close it when done. */
export type TorchCheckpoint = {
  root: PyValue;
  /** The tensor's values, contiguous row-major, as float32. */
  read(t: TorchTensor, name: string): Promise<Float32Array>;
  close(): Promise<void>;
};

type ZipEntry = { entry: yauzl.Entry; dataStart?: number };

/** Limits that keep a corrupt file from asking for absurd allocations (the released weights are far below them). */
const MAX_PICKLE = 256 * 2 ** 20; // bytes of data.pkl
const MAX_INFLATED = 1024 * 2 ** 20; // bytes of one compressed entry
const MAX_TENSOR = 2 ** 28; // elements of one tensor (1 GiB as float32)

/**
 * Opens `path` (a `torch.save` zip) and unpickles its `data.pkl`. Throws one `WildrayzerError` line for a missing
 * file, a file that is not a zip (e.g. the pre-1.6 legacy format), an archive without `data.pkl`, or a pickle
 * outside the allow-list.
 */
export async function openTorchCheckpoint(path: string): Promise<TorchCheckpoint> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new WildrayzerError(`${path}: file not found (expected a PyTorch checkpoint .pt)`);
    throw new WildrayzerError(`${path}: not a PyTorch checkpoint (a torch.save zip archive): ${(err as Error).message}`);
  }
  let fh: FileHandle | undefined;
  try {
    const entries = await listEntries(zip, path);
    const pkl = [...entries.keys()].filter((n) => n === "data.pkl" || n.endsWith("/data.pkl")).sort((a, b) => a.length - b.length)[0];
    if (pkl === undefined) throw new WildrayzerError(`${path}: no data.pkl in the archive (not a torch.save checkpoint)`);
    const prefix = pkl.slice(0, pkl.length - "data.pkl".length);
    fh = await fsOpen(path, "r");
    const file = fh;
    const fileSize = (await file.stat()).size;
    const readEntry = async (e: ZipEntry, start: number, end: number): Promise<Uint8Array> => {
      const size = e.entry.uncompressedSize;
      if (end > size) throw new WildrayzerError(`${path}: ${e.entry.fileName} holds ${size} bytes, a tensor needs ${end}`);
      if (e.entry.compressionMethod === 0) {
        e.dataStart ??= (await zip.readLocalFileHeaderPromise(e.entry, { minimal: true })).fileDataStart;
        if (e.dataStart + size > fileSize) throw new WildrayzerError(`${path}: ${e.entry.fileName} ends past the end of the file (the file is truncated)`);
        const out = new Uint8Array(end - start);
        let done = 0;
        while (done < out.length) {
          const { bytesRead } = await file.read(out, done, out.length - done, e.dataStart + start + done);
          if (bytesRead === 0) throw new WildrayzerError(`${path}: ${e.entry.fileName} is cut off (the file is truncated)`);
          done += bytesRead;
        }
        return out;
      }
      if (size > MAX_INFLATED) throw new WildrayzerError(`${path}: ${e.entry.fileName} claims ${size} bytes compressed; compressed storages that large are not read`);
      const stream = await zip.openReadStreamPromise(e.entry);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return new Uint8Array(Buffer.concat(chunks)).subarray(start, end);
    };
    const pklEntry = entries.get(pkl)!;
    if (pklEntry.entry.uncompressedSize > MAX_PICKLE) throw new WildrayzerError(`${path}: ${pkl} claims ${pklEntry.entry.uncompressedSize} bytes; a state-dict pickle is far smaller (corrupt file?)`);
    const root = unpickle(await readEntry(pklEntry, 0, pklEntry.entry.uncompressedSize), `${path}: ${pkl}`);
    return {
      root,
      async read(t: TorchTensor, name: string): Promise<Float32Array> {
        const { storage } = t;
        const e = entries.get(`${prefix}data/${storage.key}`);
        if (!e) throw new WildrayzerError(`${path}: tensor ${name}: storage ${storage.key} is missing from the archive`);
        if (e.entry.uncompressedSize < storage.numel * storage.itemSize) {
          throw new WildrayzerError(`${path}: tensor ${name}: storage ${storage.key} holds ${e.entry.uncompressedSize} bytes, expected ${storage.numel * storage.itemSize}`);
        }
        const numel = t.shape.reduce((a, b) => a * b, 1);
        if (numel === 0) return new Float32Array(0);
        if (numel > MAX_TENSOR) throw new WildrayzerError(`${path}: tensor ${name} has ${numel} elements, more than the ${MAX_TENSOR} one tensor may have here`);
        const last = t.offset + t.shape.reduce((s, n, i) => s + (n - 1) * t.stride[i]!, 0); // element index of the last element
        if (last >= storage.numel) throw new WildrayzerError(`${path}: tensor ${name} reaches element ${last} of a storage of ${storage.numel}`);
        let bytes: Uint8Array;
        try {
          bytes = await readEntry(e, t.offset * storage.itemSize, (last + 1) * storage.itemSize);
        } catch (err) {
          if (err instanceof WildrayzerError) throw err;
          throw new WildrayzerError(`${path}: tensor ${name}: broken zip entry ${e.entry.fileName}: ${(err as Error).message}`);
        }
        return gather(decodeFloats(bytes, storage.dtype, `${path}: tensor ${name}`), t.shape, t.stride);
      },
      async close() {
        await file.close();
        zip.close();
      },
    };
  } catch (err) {
    await fh?.close();
    zip.close();
    if (err instanceof WildrayzerError) throw err;
    throw new WildrayzerError(`${path}: not a readable PyTorch checkpoint: ${(err as Error).message}`);
  }
}

async function listEntries(zip: yauzl.ZipFile, path: string): Promise<Map<string, ZipEntry>> {
  const out = new Map<string, ZipEntry>();
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      out.set(entry.fileName, { entry });
      zip.readEntry();
    });
    zip.on("end", () => resolve());
    zip.on("error", (err: Error) => reject(new WildrayzerError(`${path}: broken zip archive: ${err.message}`)));
    zip.readEntry();
  });
  return out;
}

/** Raw little-endian values → float32. */
function decodeFloats(bytes: Uint8Array, dtype: TorchDtype, where: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "F32": {
      const out = new Float32Array(bytes.length / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case "F16": {
      const out = new Float32Array(bytes.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case "BF16": {
      const out = new Float32Array(bytes.length / 2);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) u32[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case "F64": {
      const out = new Float32Array(bytes.length / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    default:
      throw new WildrayzerError(`${where} has dtype ${dtype}; only float tensors (F32, F16, BF16, F64) are read`);
  }
}

/** Strided view (element offsets relative to `flat[0]`) → contiguous row-major. */
export function gather(flat: Float32Array, shape: readonly number[], stride: readonly number[]): Float32Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  let contiguous = true;
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    if (shape[i]! > 1 && stride[i] !== s) contiguous = false;
    s *= shape[i]!;
  }
  if (contiguous) return flat.length === numel ? flat : flat.slice(0, numel);
  const out = new Float32Array(numel);
  const idx = new Array<number>(shape.length).fill(0);
  let src = 0;
  for (let k = 0; k < numel; k++) {
    out[k] = flat[src]!;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a]!++;
      src += stride[a]!;
      if (idx[a]! < shape[a]!) break;
      src -= stride[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * The tensors of a state dict (`name → tensor`), found at `key` of the root dict (e.g. `model`) or at the root when
 * the root is itself the state dict. Throws one line when there is none.
 */
export function stateDictOf(root: PyValue, key: string, fileName: string): { tensors: Map<string, TorchTensor>; otherKeys: string[] } {
  if (!(root instanceof PyDict)) throw new WildrayzerError(`${fileName}: the checkpoint is a ${typeName(root)}, not a dict`);
  const inner = root.map.get(key);
  const sd = inner instanceof PyDict ? inner : root;
  const tensors = new Map<string, TorchTensor>();
  for (const [k, v] of sd.map) {
    if (typeof k === "string" && v !== null && typeof v === "object" && "kind" in v && v.kind === "tensor") tensors.set(k, v);
  }
  if (tensors.size === 0) throw new WildrayzerError(`${fileName}: no tensors under "${key}" (keys: ${[...root.map.keys()].slice(0, 8).join(", ")})`);
  const otherKeys = sd === root ? [] : [...root.map.keys()].filter((k) => k !== key).map(String);
  return { tensors, otherKeys };
}

/**
 * Every tensor under `value` with its dotted path from `prefix` (`optimizer.state.3.exp_avg`): dict keys, list and
 * tuple indices. `floatOnly` keeps F32 / F16 / BF16 / F64 ones (drops step counters).
 */
export function findTensors(value: PyValue, prefix: string, floatOnly = true): [string, TorchTensor][] {
  const found: [string, TorchTensor][] = [];
  const walk = (v: PyValue, name: string) => {
    if (v instanceof PyDict) for (const [k, x] of v.map) walk(x, `${name}.${String(k)}`);
    else if (v instanceof PyTuple || Array.isArray(v)) (v instanceof PyTuple ? v.items : v).forEach((x, i) => walk(x, `${name}.${i}`));
    else if (v !== null && typeof v === "object" && "kind" in v && v.kind === "tensor") {
      if (!floatOnly || ["F32", "F16", "BF16", "F64"].includes(v.storage.dtype)) found.push([name, v]);
    }
  };
  walk(value, prefix);
  return found;
}
