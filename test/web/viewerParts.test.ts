/**
 * The viewer's pure parts, by hand: the dragged path's cameras (the pad's unit circle is the pipeline's orbit),
 * stroke resampling, the rendering residual and its overlay ramp, the mask overlay and its label, frame helpers,
 * and frustum geometry.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dragPath, padCamera, resampleStroke } from "../../src/web/path.ts";
import { maskRgba, modelShortName, overlayLabel, renderingResidual, residualRamp, residualRgba } from "../../src/web/analysis.ts";
import { pickEven, planarToRgba, rgbaToPlanar } from "../../src/web/frames.ts";
import { frustumSegments } from "../../src/web/view3d.ts";
import { orbitPath } from "../../src/pipeline/novelViews.ts";
import { lookAt, mat4Mul, mat4Translation, rigidInverse } from "../../src/geometry/mat4.ts";
import type { Camera } from "../../src/geometry/cameras.ts";

const close = (a: readonly number[], b: readonly number[], tol: number, what: string) =>
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `${what}[${i}]: ${v} vs ${b[i]}`));

const a: Camera = { c2w: lookAt([0.3, -0.2, -1], [0, 0, 1]), fxfycxcy: [30, 31, 16, 15.5] };
const b: Camera = { c2w: mat4Mul(a.c2w, [1, 0, 0, 0.8, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), fxfycxcy: [30, 31, 16, 15.5] };

describe("dragged path", () => {
  it("the pad's unit circle is the pipeline's orbit", () => {
    const n = 7;
    const orbit = orbitPath(a, b, n);
    orbit.forEach((c, i) => {
      const th = (2 * Math.PI * i) / n;
      const p = padCamera(a, b, [Math.cos(th), Math.sin(th)]);
      close(p.c2w, c.c2w, 1e-12, `camera ${i}`);
      assert.deepEqual(p.fxfycxcy, c.fxfycxcy);
    });
  });

  it("moves radius = baseline / 4 along the first camera's axes; the centre is the camera itself", () => {
    close(padCamera(a, b, [0, 0]).c2w, a.c2w, 1e-12, "centre");
    // baseline 0.8 → radius 0.2: pad (1, 0) is 0.2 along a's x axis, (0, −0.5) is 0.1 along −y
    close(mat4Translation(mat4Mul(rigidInverse(a.c2w), padCamera(a, b, [1, 0]).c2w)), [0.2, 0, 0], 1e-12, "x");
    close(mat4Translation(mat4Mul(rigidInverse(a.c2w), padCamera(a, b, [0, -0.5]).c2w)), [0, -0.1, 0], 1e-12, "y");
    // a tiny baseline still moves 0.02 per pad unit
    close(mat4Translation(mat4Mul(rigidInverse(a.c2w), padCamera(a, a, [1, 0]).c2w)), [0.02, 0, 0], 1e-12, "floor");
  });

  it("resamples a stroke evenly by arc length, ends included", () => {
    const s = resampleStroke([[0, 0], [1, 0], [1, 1]], 5);
    s.forEach((p, i) => close(p, [[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1]][i]!, 1e-12, `point ${i}`));
    // uneven input spacing does not matter, repeated points do not either
    const t = resampleStroke([[0, 0], [0.1, 0], [0.1, 0], [3, 0]], 4);
    t.forEach((p, i) => close(p, [i, 0], 1e-12, `point ${i}`));
    assert.deepEqual(resampleStroke([[0.3, 0.4]], 3), [[0.3, 0.4], [0.3, 0.4], [0.3, 0.4]]);
    const path = dragPath(a, b, [[0, 0], [1, 0]], 3);
    close(mat4Translation(mat4Mul(rigidInverse(a.c2w), path[1]!.c2w)), [0.1, 0, 0], 1e-12, "midpoint");
  });
});

describe("rendering residual and overlay", () => {
  it("is the mean absolute RGB difference per pixel", () => {
    // 1 × 2 image: pixel 0 differs by (0.3, 0, 0.6), pixel 1 by (0.1, 0.2, 0.3)
    const x = Float32Array.from([0.5, 0.5, 0, 0, 1, 1]);
    const y = Float32Array.from([0.2, 0.4, 0, 0.2, 0.4, 0.7]);
    close(Array.from(renderingResidual(x, y, 1, 2)), [0.3, 0.2], 1e-7, "residual");
  });

  it("ramps from the clip's median (clear) to its 98th percentile (opaque red)", () => {
    const r = Float32Array.from({ length: 100 }, (_, i) => i / 100);
    const ramp = residualRamp([r, undefined]);
    close([ramp.lo, ramp.hi], [0.5, 0.98], 1e-7, "ramp");
    const px = residualRgba(Float32Array.from([0.2, 0.5, 0.74, 0.98, 2]), 1, 5, ramp);
    assert.deepEqual(Array.from(px), [255, 220, 0, 0, 255, 220, 0, 0, 255, 110, 0, 115, 255, 0, 0, 230, 255, 0, 0, 230]);
    assert.deepEqual(residualRamp([]), { lo: 0, hi: 1 });
  });
});

describe("mask overlay", () => {
  it("paints moving pixels red at 180/255, leaves the rest clear", () => {
    assert.deepEqual(Array.from(maskRgba(Uint8Array.from([0, 1, 1, 0]), 2, 2)), [0, 0, 0, 0, 255, 32, 32, 180, 255, 32, 32, 180, 0, 0, 0, 0]);
  });

  it("says which estimator drew the masks, or that a residual is not masks", () => {
    assert.equal(modelShortName("models/wildrayzer-small.safetensors"), "wildrayzer-small");
    assert.equal(modelShortName("C:\\m\\Mine.SAFETENSORS"), "Mine");
    assert.equal(overlayLabel("models/wildrayzer-small.safetensors", true), "motion masks: motion estimator (wildrayzer-small)");
    assert.equal(overlayLabel("models/small.safetensors", false), "rendering residual (this model has no motion estimator: not masks)");
  });
});

describe("frames and frusta", () => {
  it("converts RGBA to planar RGB and back; picks frames evenly", () => {
    const rgba = Uint8ClampedArray.from([255, 0, 51, 7, 102, 204, 0, 9]);
    const planar = rgbaToPlanar(rgba, 1, 2);
    close(Array.from(planar), [1, 0.4, 0, 0.8, 0.2, 0], 1e-7, "planar");
    assert.deepEqual(Array.from(planarToRgba(planar, 1, 2)), [255, 0, 51, 255, 102, 204, 0, 255]);
    assert.deepEqual(pickEven(70, 5), [0, 17, 35, 52, 69]);
    assert.deepEqual(pickEven(3, 5), [0, 1, 2]);
  });

  it("draws a frustum from the camera centre to the image corners at depth d", () => {
    const cam: Camera = { c2w: [1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], fxfycxcy: [16, 8, 16, 16] };
    const seg = frustumSegments(cam, 1, 32, 32);
    // first four segments go apex → corner (then corner → next corner); corners at ((u − cx)/fx, (v − cy)/fy, 1) + (2, 0, 0)
    const apexToCorner = [0, 2, 4, 6].map((k) => seg.slice(k * 6, k * 6 + 6));
    const corners = [[1, -2, 1], [3, -2, 1], [3, 2, 1], [1, 2, 1]];
    apexToCorner.forEach((s, i) => close(s, [2, 0, 0, ...corners[i]!], 1e-12, `segment ${i}`));
    assert.equal(seg.length, 10 * 6, "4 edges from the apex, 4 around the image, 2 for the up tick");
  });
});
