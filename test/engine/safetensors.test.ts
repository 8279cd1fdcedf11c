import { after, before, describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arr, engine, values } from "../helpers/engine.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  halfToFloat,
  safetensorsToTree,
  treeToSafetensors,
} from "../../src/engine/safetensors.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import { readFileChecked, writeFileAtomic } from "../../src/engine/files.ts";

before(engine);

/** A file built by hand: the header JSON exactly as given (no padding), then `data`. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Little-endian u16 bit patterns as bytes. */
function u16Bytes(patterns: number[]): Uint8Array {
  const b = new Uint8Array(2 * patterns.length);
  const v = new DataView(b.buffer);
  patterns.forEach((p, i) => v.setUint16(2 * i, p, true));
  return b;
}

/** Asserts that decoding throws a one-line WildrayzerError naming the file and matching `re`. */
function assertBad(bytes: Uint8Array, re: RegExp): void {
  assert.throws(
    () => decodeSafetensors(bytes, "bad.safetensors"),
    (err: unknown) => {
      assert.ok(err instanceof WildrayzerError, `expected a WildrayzerError, got ${String(err)}`);
      assert.ok(!err.message.includes("\n"), `message is not one line: ${err.message}`);
      assert.match(err.message, /^bad\.safetensors: /);
      assert.match(err.message, re);
      return true;
    },
  );
}

describe("safetensors encoding", () => {
  it("round-trips values, shapes, order and metadata exactly", () => {
    const a = Float32Array.from([1.5, -0, Infinity, -3.25e-39, 1e38, Math.PI]);
    const b = Float32Array.from([7]);
    const bytes = encodeSafetensors(
      [
        { name: "w.a", shape: [2, 3], data: a },
        { name: "scalar", shape: [], data: b },
        { name: "empty", shape: [0, 4], data: new Float32Array(0) },
      ],
      { format: "pt", step: "12" },
    );
    const f = decodeSafetensors(bytes, "x.safetensors");
    assert.deepEqual([...f.tensors.keys()], ["w.a", "scalar", "empty"]);
    assert.deepEqual(f.tensors.get("w.a")!.shape, [2, 3]);
    assert.deepEqual(Array.from(f.tensors.get("w.a")!.data), Array.from(a)); // deepEqual tells -0 from 0
    assert.ok(Object.is(f.tensors.get("w.a")!.data[1], -0), "-0 did not survive the round trip");
    assert.deepEqual(f.tensors.get("scalar"), { shape: [], data: b });
    assert.deepEqual(f.tensors.get("empty")!.shape, [0, 4]);
    assert.deepEqual(f.metadata, { format: "pt", step: "12" });
  });

  it("writes the reference layout: u64 length, space-padded header, F32 little-endian data", () => {
    const bytes = encodeSafetensors([{ name: "x", shape: [2], data: Float32Array.from([1, -2]) }]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = view.getUint32(0, true);
    assert.equal(view.getUint32(4, true), 0);
    assert.equal(n % 8, 0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    assert.match(header, /^\{"x":\{"dtype":"F32","shape":\[2\],"data_offsets":\[0,8\]\}\} *$/);
    assert.equal(bytes.length, 8 + n + 8);
    // 1.0f = 0x3F800000, -2.0f = 0xC0000000, little-endian
    assert.deepEqual(Array.from(bytes.subarray(8 + n)), [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  });

  it("reads a file whose data section starts unaligned (a header length that is not a multiple of 8)", () => {
    const data = new Uint8Array(Float32Array.from([0.25, 8]).buffer);
    const bytes = rawFile({ t: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, data);
    assert.notEqual((bytes.length - 8) % 4, 0);
    assert.deepEqual(Array.from(decodeSafetensors(bytes, "u").tensors.get("t")!.data), [0.25, 8]);
  });

  it("rejects duplicate names and data that does not fit the shape (caller bugs)", () => {
    const t = { name: "a", shape: [1], data: new Float32Array(1) };
    assert.throws(() => encodeSafetensors([t, t]), /duplicate/);
    assert.throws(() => encodeSafetensors([{ name: "a", shape: [2], data: new Float32Array(3) }]), /3 values for shape \[2\]/);
  });
});

/** Decodes one 16-bit tensor of `dtype` holding the cases' bit patterns and checks each value exactly (−0 included). */
function assertDecodes16(dtype: "F16" | "BF16", cases: readonly [number, number][]): void {
  const bytes = rawFile({ t: { dtype, shape: [cases.length], data_offsets: [0, 2 * cases.length] } }, u16Bytes(cases.map((c) => c[0])));
  const got = decodeSafetensors(bytes, dtype).tensors.get("t")!.data;
  cases.forEach(([bits, want], i) => assert.ok(Object.is(got[i], want), `${dtype} 0x${bits.toString(16)}: got ${got[i]}, want ${want}`));
}

describe("half-precision decoding", () => {
  it("decodes F16 bit patterns", () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125], // 0x155 = 341: (1 + 341/1024) / 4
      [0x7bff, 65504], // largest finite half
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0400, 2 ** -14], // smallest normal
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x8000, -0],
    ];
    assertDecodes16("F16", cases);
    assert.ok(Number.isNaN(halfToFloat(0x7e00)), "0x7e00 should decode to NaN");
  });

  it("decodes BF16 bit patterns", () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc000, -2],
      [0x4049, 3.140625], // 0x40490000: 1.5703125 · 2
      [0x0001, 2 ** -133], // smallest bf16 subnormal: 2^-126 · 2^-7
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x8000, -0],
    ];
    assertDecodes16("BF16", cases);
  });

  it("decodes F64 to the nearest float32", () => {
    const data = new Uint8Array(Float64Array.from([0.1, -1e300]).buffer);
    const got = decodeSafetensors(rawFile({ d: { dtype: "F64", shape: [2], data_offsets: [0, 16] } }, data), "d").tensors.get("d")!.data;
    assert.deepEqual(Array.from(got), [Math.fround(0.1), -Infinity]);
  });
});

describe("malformed safetensors", () => {
  const ok = { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  const eight = new Uint8Array(8);
  it("too short", () => assertBad(new Uint8Array(5), /too short .*5 bytes/));
  it("header length beyond the file", () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setUint32(0, 100, true);
    assertBad(b, /header length 100 goes beyond the end of the file \(16 bytes\)/);
    new DataView(b.buffer).setUint32(4, 1, true); // a high word: 2^32 + 100
    assertBad(b, /header length 4294967396 goes beyond/);
  });
  it("invalid JSON", () => assertBad(rawFile(null, eight, '{"a": {'), /header is not valid JSON/));
  it("invalid UTF-8 in the header", () => {
    const b = rawFile(null, undefined, "{ }");
    b[9] = 0xff; // a byte that never occurs in UTF-8
    assertBad(b, /header is not valid JSON \(.*utf-8/i);
  });
  it("a header that is not an object", () => assertBad(rawFile([1, 2]), /header is not a JSON object/));
  it("unknown dtype", () => assertBad(rawFile({ a: { ...ok.a, dtype: "F33" } }, eight), /tensor "a" has unknown dtype "F33"/));
  it("known but unsupported dtype", () => assertBad(rawFile({ a: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, eight), /dtype I64, which wildrayzer does not read/));
  it("a bad shape", () => assertBad(rawFile({ a: { ...ok.a, shape: [2, -1] } }, eight), /tensor "a" has shape \[2,-1\]/));
  it("offsets out of range", () => {
    assertBad(rawFile({ a: { ...ok.a, data_offsets: [8, 0] } }, eight), /data_offsets \[8,0\] out of range/);
    assertBad(rawFile({ a: { ...ok.a, data_offsets: [-4, 4] } }, eight), /out of range/);
    assertBad(rawFile({ a: { ...ok.a, data_offsets: [0] } }, eight), /out of range/);
  });
  it("offsets that do not match shape × dtype size", () =>
    assertBad(rawFile({ a: { ...ok.a, data_offsets: [0, 12] } }, new Uint8Array(12)), /\[0, 12\] \(12 bytes\) but shape \[2\] of F32 needs 8 bytes/));
  it("overlapping tensors", () =>
    assertBad(
      rawFile({ a: ok.a, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, eight),
      /tensors "a" \[0, 8\] and "b" \[4, 8\] overlap/,
    ));
  it("truncated data", () => {
    const full = encodeSafetensors([{ name: "w", shape: [4], data: new Float32Array(4) }]);
    assertBad(full.subarray(0, full.length - 3), /truncated: the header describes 16 data bytes but only 13 follow/);
  });
  it("metadata that is not strings", () => assertBad(rawFile({ __metadata__: { step: 3 } }), /__metadata__\.step is not a string/));
});

describe("parameter trees", () => {
  it("round-trip through bytes without consuming the source tree", async () => {
    const tree = { blocks: [{ w: arr([1, 2, 3, 4, 5, 6], [2, 3]) }, { w: arr([-1, 0.5], [1, 2]) }], norm: { weight: arr([9], [1]) } };
    const bytes = await treeToSafetensors(tree, { step: "3" });
    const file = decodeSafetensors(bytes, "t.safetensors");
    assert.deepEqual([...file.tensors.keys()], ["blocks.0.w", "blocks.1.w", "norm.weight"]);
    assert.deepEqual(file.metadata, { step: "3" });
    // The source tree is still alive: read it (this consumes it).
    assert.deepEqual(await values(tree.blocks[1]!.w), [-1, 0.5]);
    const like = { blocks: [{ w: arr(new Array(6).fill(0), [2, 3]) }, { w: arr([0, 0], [1, 2]) }], norm: { weight: arr([0], [1]) } };
    const back = safetensorsToTree(like, file, "t.safetensors");
    assert.deepEqual(back.blocks[0]!.w.shape, [2, 3]);
    assert.deepEqual(await values(back.blocks[0]!.w), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await values(back.norm.weight), [9]);
    assert.throws(() => like.norm.weight.dispose(), "`like` is consumed");
    tree.blocks[0]!.w.dispose();
    tree.norm.weight.dispose();
    back.blocks[1]!.w.dispose();
  });

  it("lists missing, unexpected and mis-shaped tensors in one line", () => {
    const file = decodeSafetensors(
      encodeSafetensors([
        { name: "a", shape: [2], data: new Float32Array(2) },
        { name: "b", shape: [3, 1], data: new Float32Array(3) },
        { name: "extra", shape: [1], data: new Float32Array(1) },
      ]),
      "m.safetensors",
    );
    const like = { a: arr([0, 0], [2]), b: arr([0, 0, 0], [1, 3]), c: { d: arr([0], [1]) } };
    assert.throws(
      () => safetensorsToTree(like, file, "m.safetensors"),
      (err: unknown) => {
        assert.ok(err instanceof WildrayzerError, `expected a WildrayzerError, got ${String(err)}`);
        assert.equal(
          err.message,
          "m.safetensors: tensors do not match the model; missing 1: c.d; unexpected 1: extra; wrong shape 1: b [3,1] (expected [1,3])",
        );
        return true;
      },
    );
  });

  it("shortens long lists", () => {
    const file = decodeSafetensors(encodeSafetensors([]), "e");
    const like = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i}`, arr([0], [1])]));
    assert.throws(() => safetensorsToTree(like, file, "e"), /missing 11: p0, p1, p2, p3, p4, p5, p6, p7 and 3 more$/);
  });
});

describe("files", () => {
  const dir = mkdtempSync(join(tmpdir(), "wrz-files-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("decodes a file read from disk (a Node Buffer, whose slice is a view into a shared pool)", () => {
    const path = join(dir, "t.safetensors");
    const a = Float32Array.from([1.5, -2, 3.25]);
    const b = Float32Array.from([7, 8]);
    writeFileAtomic(path, encodeSafetensors([{ name: "a", shape: [3], data: a }, { name: "b", shape: [2], data: b }]));
    const f = decodeSafetensors(readFileChecked(path, "a test file"), path);
    assert.deepEqual(Array.from(f.tensors.get("a")!.data), [1.5, -2, 3.25]);
    assert.deepEqual(Array.from(f.tensors.get("b")!.data), [7, 8]);
  });

  it("readFileChecked names the path and the problem", () => {
    writeFileSync(join(dir, "f.bin"), "abc");
    assert.deepEqual(Array.from(readFileChecked(join(dir, "f.bin"), "a checkpoint")), [97, 98, 99]);
    const missing = join(dir, "nope.safetensors");
    assert.throws(() => readFileChecked(missing, "a checkpoint"), { name: "WildrayzerError", message: `${missing}: file not found (expected a checkpoint)` });
    assert.throws(() => readFileChecked(dir, "a checkpoint"), { message: `${dir}: is a directory, not a file (expected a checkpoint)` });
    const under = join(dir, "f.bin", "x");
    assert.throws(() => readFileChecked(under, "a checkpoint"), { message: `${under}: a parent of this path is not a directory (expected a checkpoint)` });
  });

  it("writeFileAtomic fails cleanly when the parent is a file", () => {
    writeFileSync(join(dir, "file"), "x");
    assert.throws(() => writeFileAtomic(join(dir, "file", "out.bin"), "data"), /EEXIST|ENOTDIR/);
    assert.equal(readFileSync(join(dir, "file"), "utf8"), "x");
  });

  it("writeFileAtomic keeps the old file and leaves no temp file when the final rename fails", () => {
    const sub = join(dir, "atomic");
    mkdirSync(sub);
    const target = join(sub, "ckpt.safetensors");
    writeFileAtomic(target, "old");
    const rename = mock.method(fs, "renameSync", () => {
      throw new Error("EIO: simulated failure");
    });
    syncBuiltinESMExports(); // so files.ts's named import sees the mock
    try {
      assert.throws(() => writeFileAtomic(target, "new contents"), /simulated/);
    } finally {
      rename.mock.restore();
      syncBuiltinESMExports();
    }
    assert.equal(rename.mock.callCount(), 1);
    assert.equal(readFileSync(target, "utf8"), "old");
    assert.deepEqual(readdirSync(sub), ["ckpt.safetensors"]);
    writeFileAtomic(target, "new");
    assert.equal(readFileSync(target, "utf8"), "new");
    assert.deepEqual(readdirSync(sub), ["ckpt.safetensors"]);
    assert.ok(existsSync(target), "the old file is gone");
  });
});
