// Camera paths of the synthetic scenes: the view index must not give the pose away (docs/METHOD.md ("Small-model training") study 2), cameras stay
// inside the set and clear of objects, and the intrinsics follow the config.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SYNTH_PRESETS, type SynthConfig } from "../../src/data/config.ts";
import { makeSceneSpec, type SceneSpec } from "../../src/data/synth/index.ts";
import { rotationAngleDeg } from "../../src/geometry/rotations.ts";

const cfg = (over: Partial<SynthConfig>): SynthConfig => ({ ...SYNTH_PRESETS.tiny, frames: 8, ...over });
const centre = (c2w: readonly number[]) => [c2w[3]!, c2w[7]!, c2w[11]!];
const rot = (c2w: readonly number[]) => [c2w[0]!, c2w[1]!, c2w[2]!, c2w[4]!, c2w[5]!, c2w[6]!, c2w[8]!, c2w[9]!, c2w[10]!];
const dist = (a: number[], b: number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
const isMonotone = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!) || xs.every((x, i) => i === 0 || x <= xs[i - 1]!);

describe("synth camera paths", () => {
  it("frame times start at 0, increase, and have irregular gaps", () => {
    for (let seed = 0; seed < 10; seed++) {
      const t = makeSceneSpec(seed, cfg({})).times;
      assert.equal(t[0], 0);
      const gaps = t.slice(1).map((x, i) => x - t[i]!);
      assert.ok(gaps.every((g) => g > 0), `seed ${seed}: times not increasing`);
      assert.ok(Math.max(...gaps) / Math.min(...gaps) > 1.2, `seed ${seed}: gaps nearly equal ${gaps}`);
    }
  });

  it("walk: the spacing of consecutive camera centres varies, and speeds and headings differ between scenes", () => {
    const speeds: number[] = [];
    const headings: number[] = [];
    for (let seed = 0; seed < 12; seed++) {
      const spec = makeSceneSpec(seed, cfg({ path: "walk" }));
      const c = spec.cameras.map((k) => centre(k.c2w));
      const steps = c.slice(1).map((x, i) => dist(x, c[i]!));
      const total = dist(c[c.length - 1]!, c[0]!);
      if (total < 0.2) continue; // a walk that could not fit its arena stands nearly still
      assert.ok(Math.max(...steps) / Math.min(...steps) > 1.15, `seed ${seed}: equal steps ${steps.map((s) => s.toFixed(3))}`);
      speeds.push(total / spec.times[spec.times.length - 1]!);
      headings.push(Math.atan2(c[c.length - 1]![0]! - c[0]![0]!, c[c.length - 1]![2]! - c[0]![2]!));
    }
    assert.ok(speeds.length >= 8, `only ${speeds.length} of 12 walks move`);
    assert.ok(Math.max(...speeds) / Math.min(...speeds) > 1.5, `walk speeds barely vary: ${speeds}`);
    assert.ok(Math.max(...headings) - Math.min(...headings) > 1, `walk headings barely vary: ${headings}`);
  });

  it("jitter: the pose change from frame 0 is not monotone in the frame index", () => {
    for (let seed = 0; seed < 8; seed++) {
      const spec = makeSceneSpec(seed, cfg({ path: "jitter" }));
      const r0 = rot(spec.cameras[0]!.c2w);
      const angles = spec.cameras.slice(1).map((k) => rotationAngleDeg(r0, rot(k.c2w)));
      const moves = spec.cameras.slice(1).map((k) => dist(centre(k.c2w), centre(spec.cameras[0]!.c2w)));
      assert.ok(!isMonotone(angles), `seed ${seed}: rotation from frame 0 is monotone ${angles.map((a) => a.toFixed(1))}`);
      assert.ok(!isMonotone(moves), `seed ${seed}: translation from frame 0 is monotone`);
      assert.ok(Math.max(...angles) < 35, `seed ${seed}: jitter rotates ${Math.max(...angles)}°`);
    }
  });

  it("pan: the camera stays nearly in place while its heading sweeps; orbit: it keeps looking at one point", () => {
    for (let seed = 0; seed < 6; seed++) {
      const pan = makeSceneSpec(seed, cfg({ path: "pan" }));
      const c = pan.cameras.map((k) => centre(k.c2w));
      assert.ok(dist(c[0]!, c[c.length - 1]!) < 0.35, `seed ${seed}: pan moves ${dist(c[0]!, c[c.length - 1]!)} m`);
      assert.ok(rotationAngleDeg(rot(pan.cameras[0]!.c2w), rot(pan.cameras[c.length - 1]!.c2w)) > 2, `seed ${seed}: pan does not turn`);

      const orbit = makeSceneSpec(seed, cfg({ path: "orbit" }));
      // The optical axes of all frames pass (nearly) through one point: the closest points of frames 0 and k agree.
      const axis = (m: readonly number[]) => ({ o: centre(m), d: [m[2]!, m[6]!, m[10]!] });
      const a = axis(orbit.cameras[0]!.c2w), b = axis(orbit.cameras[orbit.cameras.length - 1]!.c2w);
      const w = a.o.map((x, i) => x - b.o[i]!);
      const dot = (u: number[], v: number[]) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
      const [aa, ab, bb, aw, bw] = [dot(a.d, a.d), dot(a.d, b.d), dot(b.d, b.d), dot(a.d, w), dot(b.d, w)];
      const den = aa * bb - ab * ab;
      if (den < 1e-6) continue; // no arc (the orbit did not fit and stood still)
      const [s, t] = [(ab * bw - bb * aw) / den, (aa * bw - ab * aw) / den];
      const gap = dist(a.o.map((x, i) => x + s * a.d[i]!), b.o.map((x, i) => x + t * b.d[i]!));
      assert.ok(gap < 0.05 && s > 1, `seed ${seed}: orbit axes miss each other by ${gap} m (s = ${s})`);
    }
  });

  it("mixed picks different path kinds across scenes", () => {
    const kinds = new Set(Array.from({ length: 24 }, (_, seed) => makeSceneSpec(seed, cfg({ path: "mixed" })).path));
    assert.equal(kinds.size, 4, `kinds seen: ${[...kinds]}`);
  });

  it("intrinsics: fx = fy within focalRange · W, principal point at the centre, shared by all frames", () => {
    for (let seed = 0; seed < 10; seed++) {
      const spec = makeSceneSpec(seed, cfg({ focalRange: [0.8, 0.9], size: 64 }));
      const [fx, fy, cx, cy] = spec.cameras[0]!.fxfycxcy;
      assert.ok(fx >= 0.8 * 64 && fx <= 0.9 * 64, `seed ${seed}: fx ${fx}`);
      assert.deepEqual([fy, cx, cy], [fx, 32, 32]);
      for (const c of spec.cameras) assert.deepEqual(c.fxfycxcy, spec.cameras[0]!.fxfycxcy);
    }
  });

  it("cameras are proper rotations, stay inside the room (or street) and clear of the static objects", () => {
    const inside = (spec: SceneSpec, p: number[]) =>
      spec.env.kind === "room"
        ? p[0]! > spec.env.min[0] && p[0]! < spec.env.max[0] && p[1]! > spec.env.min[1] && p[1]! < spec.env.max[1] && p[2]! > spec.env.min[2] && p[2]! < spec.env.max[2]
        : Math.abs(p[0]!) < spec.env.halfWidth && p[1]! < spec.floorY;
    for (let seed = 0; seed < 30; seed++) {
      const spec = makeSceneSpec(seed, cfg({ path: "mixed" }));
      for (const k of spec.cameras) {
        const r = rot(k.c2w);
        assert.ok(rotationAngleDeg(r, r) < 1e-6, "identity angle");
        const rtr = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => r[i]! * r[j]! + r[3 + i]! * r[3 + j]! + r[6 + i]! * r[6 + j]!));
        assert.ok(rtr.every((x, i) => Math.abs(x - (i % 4 === 0 ? 1 : 0)) < 1e-9), `seed ${seed}: R not orthonormal`);
        const p = centre(k.c2w);
        assert.ok(inside(spec, p), `seed ${seed}: camera at ${p} outside the ${spec.env.kind}`);
        assert.ok(spec.floorY - p[1]! > 1.1 && spec.floorY - p[1]! < 1.9, `seed ${seed}: camera ${spec.floorY - p[1]!} m above the floor`);
        for (const o of spec.statics) {
          const foot = o.shape === "box" ? Math.hypot(o.half[0], o.half[2]) : o.half[0];
          assert.ok(Math.hypot(p[0]! - o.centre[0], p[2]! - o.centre[2]) > foot + 0.3, `seed ${seed}: camera inside object ${o.id}`);
        }
      }
    }
  });
});
