import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { computeCrop, cropIntrinsics, cropMask, uncropIntrinsics, uncropMask, workingToOriginal } from "../../src/data/crop.ts";
import { parseNpy, writeNpy } from "../../src/data/npy.ts";
import type { Intrinsics } from "../../src/geometry/cameras.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";

describe("crop policy", () => {
  it("center keeps the largest centred square at whole pixels; stretch keeps the frame", () => {
    assert.deepEqual(computeCrop(240, 432, 64, 64).region, { x0: 96, y0: 0, w: 240, h: 240 });
    assert.deepEqual(computeCrop(433, 240, 32, 32).region, { x0: 0, y0: 96, w: 240, h: 240 });
    assert.deepEqual(computeCrop(240, 432, 64, 64, "stretch").region, { x0: 0, y0: 0, w: 432, h: 240 });
  });

  it("cropped intrinsics project a 3-D point to the same place as projecting then mapping the pixel", () => {
    const k: Intrinsics = [300, 310, 215.3, 121.7];
    for (const policy of ["center", "stretch"] as const) {
      const map = computeCrop(240, 432, 64, 64, policy);
      const kc = cropIntrinsics(k, map);
      for (const [X, Y, Z] of [[0.3, -0.2, 2], [-1, 0.4, 5], [0, 0, 1]] as const) {
        const u = (k[0] * X) / Z + k[2];
        const v = (k[1] * Y) / Z + k[3];
        const uc = (kc[0] * X) / Z + kc[2];
        const vc = (kc[1] * Y) / Z + kc[3];
        const [uo, vo] = workingToOriginal(uc, vc, map);
        assert.ok(Math.abs(uo - u) < 1e-9 && Math.abs(vo - v) < 1e-9, `${policy}: (${uo}, ${vo}) vs (${u}, ${v})`);
      }
      const back = uncropIntrinsics(kc, map);
      back.forEach((x, i) => assert.ok(Math.abs(x - k[i]!) < 1e-9, `uncrop ${i}`));
    }
  });
});

describe("cropMask", () => {
  it("gives each working pixel the moving fraction of its footprint, ignores the cropped-away sides, and round-trips uncropMask", () => {
    // a 4×8 frame, centre square 4×4 at x0 = 2, brought to 2×2: each working pixel covers 2×2 original pixels
    const crop = computeCrop(4, 8, 2, 2);
    assert.deepEqual(crop.region, { x0: 2, y0: 0, w: 4, h: 4 });
    const m = new Uint8Array(32);
    m[0 * 8 + 0] = 1; // cropped away: counts nowhere
    m[0 * 8 + 2] = 1; // top-left working pixel: 1 of 4
    m[2 * 8 + 4] = m[2 * 8 + 5] = m[3 * 8 + 4] = 1; // bottom-right: 3 of 4
    assert.deepEqual(Array.from(cropMask(m, crop)), [0.25, 0, 0, 0.75]);
    // a working mask enlarged then brought back gives 1 exactly where it was set
    const big = computeCrop(60, 100, 12, 12);
    const w = new Uint8Array(144).map((_, i) => ((i * 7) % 5 === 0 ? 1 : 0));
    const back = cropMask(uncropMask(w, big), big);
    assert.deepEqual(Array.from(back, (v) => (v >= 0.5 ? 1 : 0)), Array.from(w));
    assert.throws(() => cropMask(new Uint8Array(5), crop), /5 values for a 8×4 frame/);
  });
});

describe(".npy reader", () => {
  it("round-trips float64, reads Fortran order and big-endian float32, and rejects bad files in one line", () => {
    const a = parseNpy(writeNpy([2, 3], [1, 2, 3, 4, 5, 6]), "a.npy");
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual(Array.from(a.data), [1, 2, 3, 4, 5, 6]);
    // hand-made v1.0: big-endian float32, Fortran order, shape (2, 3) holding [[1,2,3],[4,5,6]] column-major
    const header = "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }";
    const padded = header + " ".repeat(64 - ((10 + header.length + 1) % 64)) + "\n";
    const bytes = new Uint8Array(10 + padded.length + 24);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 10);
    const dv = new DataView(bytes.buffer, 10 + padded.length);
    [1, 4, 2, 5, 3, 6].forEach((v, i) => dv.setFloat32(4 * i, v, false));
    const f = parseNpy(bytes, "f.npy");
    assert.deepEqual(Array.from(f.data), [1, 2, 3, 4, 5, 6]);
    for (const [bad, why] of [
      [new Uint8Array([1, 2, 3]), /missing the \\x93NUMPY magic/],
      [writeNpy([4, 17], new Float64Array(68)).subarray(0, 200), /truncated data/],
    ] as const) {
      assert.throws(() => parseNpy(bad, "bad.npy"), (e: unknown) => e instanceof WildrayzerError && why.test(e.message) && e.message.startsWith("bad.npy:"));
    }
  });
});

describe("packBatch ground-truth cameras (pose warm-up ablation)", () => {
  it("are relative to each sample's first view, with intrinsics normalised by the image size", async () => {
    const { packBatch } = await import("../../src/data/sampling.ts");
    const { fakeScene } = await import("../helpers/fakeScene.ts");
    const { mat4Mul, rigidInverse } = await import("../../src/geometry/mat4.ts");
    const scene = fakeScene({ h: 24, w: 32, frames: 4 });
    const batch = packBatch([scene], [[2, 0, 3]]);
    const c = batch.cameras!;
    assert.deepEqual(Array.from(c.c2w.subarray(0, 16)).map((x) => Math.round(x * 1e6) / 1e6 + 0), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const want = mat4Mul(rigidInverse(scene.frames[2]!.camera!.c2w), scene.frames[3]!.camera!.c2w);
    Array.from(c.c2w.subarray(32, 48)).forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 1e-5, `c2w[${i}]`));
    const k = scene.frames[0]!.camera!.fxfycxcy;
    assert.deepEqual(Array.from(c.fxfycxcy.subarray(4, 8)), Array.from(new Float32Array([k[0] / 32, k[1] / 24, k[2] / 32, k[3] / 24])));
  });
});
