/**
 * The safe PyTorch checkpoint reader: it reads the official fixture .pt (made by torch.save) to exactly the values
 * of its safetensors twin; strided views, storage offsets, F16 and BF16 of hand-built checkpoints; and it rejects
 * every malformed or hostile file with one WildrayzerError line (fuzzed: truncations, byte flips, wrong magic,
 * globals such as os.system, storages past the end), never another error and never a hang.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipEnd, zipEntryHeaders } from "../helpers/zip.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { decodeSafetensors, floatToHalf } from "../../src/engine/safetensors.ts";
import { findTensors, openTorchCheckpoint, stateDictOf, unpickle, PyDict } from "../../src/engine/torchCheckpoint.ts";
import { makeRng } from "../../src/engine/rng.ts";
import { OFFICIAL_DIR } from "../helpers/officialFixtures.ts";

const PT = `${OFFICIAL_DIR}wildrayzer_tiny.pt`;
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wrz-pt-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stored (uncompressed) zip of `files`, as torch.save writes (no data descriptors). */
function zip(files: [string, Uint8Array][]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const { local, central } = zipEntryHeaders(Buffer.from(name), data, offset);
    locals.push(local, Buffer.from(data));
    centrals.push(central);
    offset += local.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  return new Uint8Array(Buffer.concat([...locals, cd, zipEnd(files.length, cd.length, offset)]));
}

/** Pickle bytes, protocol 2, built from small pieces. */
const P = {
  str: (s: string) => {
    const b = Buffer.from(s);
    const h = Buffer.alloc(5);
    h[0] = 0x58;
    h.writeUInt32LE(b.length, 1);
    return Buffer.concat([h, b]);
  },
  int: (v: number) => {
    const h = Buffer.alloc(5);
    h[0] = 0x4a;
    h.writeInt32LE(v, 1);
    return h;
  },
  global: (m: string, n: string) => Buffer.from(`c${m}\n${n}\n`, "latin1"),
  op: (...codes: number[]) => Buffer.from(codes),
};
const MARK = 0x28, TUPLE = 0x74, REDUCE = 0x52, SETITEM = 0x73, STOP = 0x2e, BINPERSID = 0x51, NEWFALSE = 0x89, EMPTY_TUPLE = 0x29, EMPTY_DICT = 0x7d;

/** `{"model": OrderedDict{name: tensor}}` with tensors given as storage class, key, numel, offset, shape, stride. */
function statePickle(tensors: { name: string; cls: string; key: string; numel: number; offset: number; shape: number[]; stride: number[] }[]): Uint8Array {
  const parts: Buffer[] = [P.op(0x80, 2, EMPTY_DICT), P.str("model"), P.global("collections", "OrderedDict"), P.op(EMPTY_TUPLE, REDUCE)];
  for (const t of tensors) {
    parts.push(P.str(t.name), P.global("torch._utils", "_rebuild_tensor_v2"), P.op(MARK));
    parts.push(P.op(MARK), P.str("storage"), P.global("torch", t.cls), P.str(t.key), P.str("cpu"), P.int(t.numel), P.op(TUPLE, BINPERSID));
    parts.push(P.int(t.offset), P.op(MARK), ...t.shape.map(P.int), P.op(TUPLE), P.op(MARK), ...t.stride.map(P.int), P.op(TUPLE));
    parts.push(P.op(NEWFALSE), P.global("collections", "OrderedDict"), P.op(EMPTY_TUPLE, REDUCE, TUPLE, REDUCE, SETITEM));
  }
  parts.push(P.op(SETITEM, STOP));
  return new Uint8Array(Buffer.concat(parts));
}

function f32bytes(v: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(v).buffer);
}

async function readAll(path: string): Promise<Map<string, Float32Array>> {
  const ck = await openTorchCheckpoint(path);
  try {
    const out = new Map<string, Float32Array>();
    for (const [k, t] of stateDictOf(ck.root, "model", path).tensors) out.set(k, await ck.read(t, k));
    return out;
  } finally {
    await ck.close();
  }
}

function writeTmp(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe("torch checkpoint reader", () => {
  it("reads the official fixture .pt (torch.save) to exactly its safetensors values, all 78 tensors, with shapes", async () => {
    const st = decodeSafetensors(readFileSync(`${OFFICIAL_DIR}wildrayzer_tiny.safetensors`), "st");
    const ck = await openTorchCheckpoint(PT);
    const { tensors } = stateDictOf(ck.root, "model", PT);
    assert.equal(tensors.size, 78);
    for (const [k, t] of tensors) {
      const ref = st.tensors.get(k)!;
      assert.deepEqual(t.shape, ref.shape, k);
      assert.deepEqual(await ck.read(t, k), ref.data, k);
    }
    // the state dict's _metadata arrives through BUILD and is kept aside, not as a key
    const model = (ck.root as PyDict).map.get("model") as PyDict;
    assert.ok(model.attributes instanceof PyDict && model.attributes.map.has("_metadata"), "_metadata kept as an attribute");
    await ck.close();
  });

  it("honours storage offsets, strides (a transposed view), shared storages, F16 and BF16", async () => {
    const storage = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const half = new Uint8Array(new Uint16Array([0.5, -2, 1024, 0.1].map(floatToHalf)).buffer);
    const bf = new Uint8Array(new Uint16Array([0x3f80, 0xc040, 0x4049]).buffer); // 1, -3, 3.140625
    const pkl = statePickle([
      { name: "view", cls: "FloatStorage", key: "0", numel: 12, offset: 2, shape: [2, 3], stride: [4, 1] }, // rows of 4, from 2
      { name: "t", cls: "FloatStorage", key: "0", numel: 12, offset: 0, shape: [4, 3], stride: [1, 4] }, // transpose of a 3×4
      { name: "h", cls: "HalfStorage", key: "1", numel: 4, offset: 0, shape: [4], stride: [1] },
      { name: "b", cls: "BFloat16Storage", key: "2", numel: 3, offset: 1, shape: [2], stride: [1] },
      { name: "scalar", cls: "FloatStorage", key: "0", numel: 12, offset: 11, shape: [], stride: [] },
    ]);
    const path = writeTmp("views.pt", zip([["views/data.pkl", pkl], ["views/data/0", f32bytes(storage)], ["views/data/1", half], ["views/data/2", bf]]));
    const got = await readAll(path);
    assert.deepEqual([...got.get("view")!], [2, 3, 4, 6, 7, 8]);
    assert.deepEqual([...got.get("t")!], [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    assert.deepEqual([...got.get("h")!], [0.5, -2, 1024, 0.0999755859375]);
    assert.deepEqual([...got.get("b")!], [-3, 3.140625]);
    assert.deepEqual([...got.get("scalar")!], [11]);
  });

  it("finds the tensors of a nested optimizer entry by path (int keys, lists), float ones only; stateDictOf skips it", async () => {
    // {"model": OrderedDict{"w": t0}, "optimizer": {"state": {0: {"step": t1 (I64), "exp_avg": t2}}, "param_groups": [{"lr": 0.1}]}}
    const tensor = (key: string, cls: string) => [
      P.global("torch._utils", "_rebuild_tensor_v2"), P.op(MARK, MARK), P.str("storage"), P.global("torch", cls), P.str(key), P.str("cpu"), P.int(2), P.op(TUPLE, BINPERSID),
      P.int(0), P.op(MARK), P.int(2), P.op(TUPLE), P.op(MARK), P.int(1), P.op(TUPLE), P.op(NEWFALSE), P.global("collections", "OrderedDict"), P.op(EMPTY_TUPLE, REDUCE, TUPLE, REDUCE),
    ];
    const pkl = new Uint8Array(Buffer.concat([
      P.op(0x80, 2, EMPTY_DICT), P.str("model"), P.global("collections", "OrderedDict"), P.op(EMPTY_TUPLE, REDUCE), P.str("w"), ...tensor("0", "FloatStorage"), P.op(SETITEM, SETITEM),
      P.str("optimizer"), P.op(EMPTY_DICT), P.str("state"), P.op(EMPTY_DICT), P.op(0x4b, 0), P.op(EMPTY_DICT),
      P.str("step"), ...tensor("1", "LongStorage"), P.op(SETITEM), P.str("exp_avg"), ...tensor("2", "FloatStorage"), P.op(SETITEM, SETITEM, SETITEM),
      P.str("param_groups"), P.op(0x5d, EMPTY_DICT), P.str("lr"), P.op(0x47), Buffer.from(new Float64Array([0.1]).buffer).reverse(), P.op(SETITEM, 0x61, SETITEM, SETITEM, STOP),
    ]));
    const path = writeTmp("opt.pt", zip([["o/data.pkl", pkl], ["o/data/0", f32bytes([1, 2])], ["o/data/1", new Uint8Array(16)], ["o/data/2", f32bytes([5, 6])]]));
    const ck = await openTorchCheckpoint(path);
    const root = ck.root as PyDict;
    const { tensors, otherKeys } = stateDictOf(root, "model", path);
    assert.deepEqual([...tensors.keys()], ["w"]);
    assert.deepEqual(otherKeys, ["optimizer"]);
    const found = findTensors(root.map.get("optimizer")!, "optimizer");
    assert.deepEqual(found.map(([n]) => n), ["optimizer.state.0.exp_avg"]);
    assert.deepEqual([...(await ck.read(found[0]![1], "exp_avg"))], [5, 6]);
    assert.deepEqual(findTensors(root.map.get("optimizer")!, "optimizer", false).map(([n]) => n), ["optimizer.state.0.step", "optimizer.state.0.exp_avg"]);
    await ck.close();
  });

  it("APPENDS extends a list and ADDITEMS a set (read as a list); on anything else each names its opcode", () => {
    const EMPTY_LIST = 0x5d, EMPTY_SET = 0x8f, APPENDS = 0x65, ADDITEMS = 0x90;
    const pk = (...parts: Buffer[]) => new Uint8Array(Buffer.concat([P.op(0x80, 4), ...parts, P.op(STOP)]));
    assert.deepEqual(unpickle(pk(P.op(EMPTY_LIST, MARK), P.int(1), P.int(-2), P.op(APPENDS)), "l.pkl"), [1, -2]);
    assert.deepEqual(unpickle(pk(P.op(EMPTY_SET, MARK), P.int(3), P.op(ADDITEMS)), "s.pkl"), [3]);
    assert.throws(() => unpickle(pk(P.op(EMPTY_DICT, MARK), P.int(1), P.op(APPENDS)), "d.pkl"), /APPENDS on something that is not a list/);
    assert.throws(() => unpickle(pk(P.op(EMPTY_DICT, MARK), P.int(1), P.op(ADDITEMS)), "d.pkl"), /ADDITEMS on something that is not a set/);
  });

  it("refuses globals outside the allow-list (os.system, builtins.eval, via GLOBAL or STACK_GLOBAL) without running anything", () => {
    const system = new Uint8Array(Buffer.concat([P.op(0x80, 2), P.global("os", "system"), P.op(MARK), P.str("touch /tmp/pwned"), P.op(TUPLE, REDUCE, STOP)]));
    assert.throws(() => unpickle(system, "evil.pt"), (e: unknown) => e instanceof WildrayzerError && /^evil\.pt: refuses the pickle global os\.system/.test(e.message));
    const stackGlobal = new Uint8Array(Buffer.concat([P.op(0x80, 4), P.str("builtins"), P.str("eval"), P.op(0x93), P.op(STOP)]));
    assert.throws(() => unpickle(stackGlobal, "evil.pt"), /refuses the pickle global builtins\.eval/);
    const nt = new Uint8Array(Buffer.concat([P.op(0x80, 2), P.global("posix", "system"), P.op(STOP)]));
    assert.throws(() => unpickle(nt, "evil.pt"), /posix\.system/);
    // an opcode that builds objects by calling classes (NEWOBJ) and INST are refused by name
    assert.throws(() => unpickle(new Uint8Array([0x80, 2, 0x81, STOP]), "x.pt"), /refuses pickle opcode 0x81/);
    assert.throws(() => unpickle(new Uint8Array([0x80, 2, 0x69, STOP]), "x.pt"), /refuses pickle opcode 0x69/);
  });

  it("a zip holding os.system in data.pkl is one line, through the file path too", async () => {
    const pkl = new Uint8Array(Buffer.concat([P.op(0x80, 2), P.global("os", "system"), P.op(MARK), P.str("echo"), P.op(TUPLE, REDUCE, STOP)]));
    const path = writeTmp("evil.pt", zip([["evil/data.pkl", pkl]]));
    await assert.rejects(openTorchCheckpoint(path), (e: unknown) => e instanceof WildrayzerError && /evil\.pt: evil\/data\.pkl: refuses the pickle global os\.system/.test(e.message));
  });

  it("wrong magic, a missing file, no data.pkl, and storages past the end are one line each", async () => {
    const st = writeTmp("not.pt", readFileSync(`${OFFICIAL_DIR}wildrayzer_tiny.safetensors`));
    await assert.rejects(openTorchCheckpoint(st), /not\.pt: not a PyTorch checkpoint/);
    await assert.rejects(openTorchCheckpoint(join(dir, "absent.pt")), /absent\.pt: file not found/);
    await assert.rejects(openTorchCheckpoint(writeTmp("empty.pt", zip([["a/version", new Uint8Array([51])]]))), /no data\.pkl/);
    const past = statePickle([{ name: "w", cls: "FloatStorage", key: "0", numel: 4, offset: 2, shape: [3], stride: [1] }]);
    await assert.rejects(readAll(writeTmp("past.pt", zip([["p/data.pkl", past], ["p/data/0", f32bytes([1, 2, 3, 4])]]))), /tensor w reaches element 4 of a storage of 4/);
    const short = statePickle([{ name: "w", cls: "FloatStorage", key: "0", numel: 8, offset: 0, shape: [8], stride: [1] }]);
    await assert.rejects(readAll(writeTmp("short.pt", zip([["p/data.pkl", short], ["p/data/0", f32bytes([1, 2])]]))), /storage 0 holds 8 bytes, expected 32/);
    const gone = statePickle([{ name: "w", cls: "FloatStorage", key: "5", numel: 1, offset: 0, shape: [1], stride: [1] }]);
    await assert.rejects(readAll(writeTmp("gone.pt", zip([["p/data.pkl", gone]]))), /storage 5 is missing/);
    const ints = statePickle([{ name: "step", cls: "LongStorage", key: "0", numel: 1, offset: 0, shape: [], stride: [] }]);
    await assert.rejects(readAll(writeTmp("ints.pt", zip([["p/data.pkl", ints], ["p/data/0", new Uint8Array(8)]]))), /tensor step has dtype I64/);
  });

  it("fuzz: every truncation and 200 seeded byte flips of the fixture .pt either read or fail with one WildrayzerError line", { timeout: 120_000 }, async () => {
    const bytes = readFileSync(PT);
    const rng = makeRng(17);
    const outcomes = { ok: 0, rejected: 0 };
    const check = async (b: Uint8Array, what: string) => {
      const path = writeTmp("fuzz.pt", b);
      try {
        await readAll(path);
        outcomes.ok++;
      } catch (err) {
        assert.ok(err instanceof WildrayzerError, `${what}: ${String(err)}`);
        assert.ok(!err.message.includes("\n"), `${what}: multi-line message`);
        outcomes.rejected++;
      }
    };
    for (const cut of [0, 1, 4, 21, 100, 1000, 5000, bytes.length >> 1, bytes.length - 100, bytes.length - 22, bytes.length - 1]) await check(bytes.subarray(0, cut), `cut at ${cut}`);
    // the pickle and the zip's tail (central directory) are where flips matter most: aim half of them there
    const tail = bytes.length - 9000;
    for (let i = 0; i < 200; i++) {
      const b = new Uint8Array(bytes);
      const at = i % 2 === 0 ? Math.floor(rng.uniform(0, 4000)) : Math.floor(rng.uniform(tail, bytes.length));
      b[at] = Math.floor(rng.uniform(0, 256));
      await check(b, `flip at ${at}`);
    }
    assert.ok(outcomes.rejected >= 11, `only ${outcomes.rejected} rejected`);
  });

  it("fuzz: 2000 seeded random and mutated pickles never throw anything but a WildrayzerError", () => {
    const rng = makeRng(5);
    const seed = statePickle([{ name: "w", cls: "FloatStorage", key: "0", numel: 4, offset: 0, shape: [2, 2], stride: [2, 1] }]);
    for (let i = 0; i < 2000; i++) {
      let b: Uint8Array;
      if (i % 2 === 0) b = Uint8Array.from({ length: Math.floor(rng.uniform(1, 64)) }, () => Math.floor(rng.uniform(0, 256)));
      else {
        b = new Uint8Array(seed);
        for (let j = 0; j < 3; j++) b[Math.floor(rng.uniform(0, b.length))] = Math.floor(rng.uniform(0, 256));
      }
      try {
        unpickle(b, "f.pt");
      } catch (err) {
        assert.ok(err instanceof WildrayzerError, `case ${i}: ${String(err)}`);
      }
    }
  });
});
