// The synthetic scene generator: determinism, config, ground truth (static image, mask, depth, ids) and its
// consistency with the stored cameras, anti-aliasing. Camera paths are tested in synthPaths.test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HELD_OUT_SEED_START, SYNTH_PRESETS, SynthConfigSchema, type SynthConfig } from "../../src/data/config.ts";
import { generateScene, makeSceneSpec, renderSpec, type SynthScene } from "../../src/data/synth/index.ts";
import { pixelRay } from "../../src/geometry/rays.ts";

const TINY: SynthConfig = SYNTH_PRESETS.tiny;
const cfg = (over: Partial<SynthConfig>): SynthConfig => ({ ...TINY, ...over });
const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => Object.is(x, b[i]));

/** Pixel-space projection written out here (not the generator's code): OpenCV c2w, pixel centres at +0.5. */
function project(c2w: readonly number[], k: readonly number[], p: readonly number[]): { x: number; y: number; z: number } {
  const d = [p[0]! - c2w[3]!, p[1]! - c2w[7]!, p[2]! - c2w[11]!];
  const q = [0, 1, 2].map((j) => c2w[j]! * d[0]! + c2w[4 + j]! * d[1]! + c2w[8 + j]! * d[2]!); // Rᵀ (p − t)
  return { x: (k[0]! * q[0]!) / q[2]! + k[2]!, y: (k[1]! * q[1]!) / q[2]! + k[3]!, z: q[2]! };
}

describe("synth config", () => {
  it("presets parse; unknown keys, non-square sample counts and reversed ranges are rejected", () => {
    for (const p of Object.values(SYNTH_PRESETS)) assert.deepEqual(SynthConfigSchema.parse(p), p);
    assert.equal(SynthConfigSchema.safeParse({ ...TINY, extra: 1 }).success, false, "unknown key");
    assert.equal(SynthConfigSchema.safeParse({ ...TINY, samplesPerPixel: 3 }).success, false, "3 samples is not a square grid");
    assert.equal(SynthConfigSchema.safeParse({ ...TINY, movers: [2, 1] }).success, false, "movers [2, 1]");
    assert.equal(SynthConfigSchema.safeParse({ ...TINY, size: 48 }).success, false, "size 48");
    const parsed = SynthConfigSchema.parse({ size: 32, frames: 4, movers: [0, 1], path: "walk", texture: "busy" });
    assert.deepEqual([parsed.focalRange, parsed.samplesPerPixel, parsed.moverShadows, parsed.hardCaseProb], [[1.0, 1.3], 4, true, 0.2]);
    assert.equal(HELD_OUT_SEED_START, 1e9);
  });
  it("rejects a seed that is not an integer in [0, 2^32)", () => {
    assert.throws(() => generateScene(-1, TINY), /seed/);
    assert.throws(() => generateScene(1.5, TINY), /seed/);
  });
});

describe("generateScene", () => {
  it("is deterministic: the same seed gives identical arrays, another seed different ones", () => {
    const [a, b, c] = [generateScene(11, TINY), generateScene(11, TINY), generateScene(12, TINY)];
    for (let i = 0; i < a.frames.length; i++) {
      const [fa, fb] = [a.frames[i]!, b.frames[i]!];
      assert.ok(same(fa.image, fb.image) && same(fa.static, fb.static) && same(fa.mask, fb.mask) && same(fa.depth, fb.depth), `frame ${i} differs between runs`);
      assert.deepEqual(fa.camera, fb.camera);
    }
    assert.ok(!same(a.frames[0]!.image, c.frames[0]!.image), "seeds 11 and 12 render the same image");
    const heldOut = generateScene(HELD_OUT_SEED_START + 3, TINY);
    assert.ok(!same(heldOut.frames[0]!.image, generateScene(3, TINY).frames[0]!.image), "held-out seed repeats a training seed");
  });

  it("fills every field: names, shapes, finite values, images in [0, 1], binary masks, positive depth", () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const s = generateScene(seed, cfg({ texture: seed % 2 ? "busy" : "mixed" }));
      assert.equal(s.h, 32);
      assert.equal(s.w, 32);
      assert.equal(s.frames.length, 6);
      s.frames.forEach((f, i) => {
        assert.equal(f.name, String(i).padStart(5, "0"));
        assert.equal(f.image.length, 3 * 32 * 32);
        assert.equal(f.static.length, 3 * 32 * 32);
        assert.equal(f.mask.length, 32 * 32);
        assert.equal(f.depth.length, 32 * 32);
        for (const arr of [f.image, f.static]) assert.ok(arr.every((x) => Number.isFinite(x) && x >= 0 && x <= 1), `seed ${seed} frame ${i}: image value outside [0, 1]`);
        assert.ok(f.mask.every((x) => x === 0 || x === 1), `seed ${seed} frame ${i}: mask not binary`);
        assert.ok(f.depth.every((x) => Number.isFinite(x) && x > 0), `seed ${seed} frame ${i}: depth not finite and positive`);
        assert.ok(f.camera.c2w.every(Number.isFinite) && f.camera.fxfycxcy.every(Number.isFinite), "camera not finite");
      });
      // Not grey everything: the image has colour and contrast.
      const img = s.frames[0]!.image;
      const n = 32 * 32;
      let chroma = 0;
      for (let i = 0; i < n; i++) chroma += Math.max(img[i]!, img[n + i]!, img[2 * n + i]!) - Math.min(img[i]!, img[n + i]!, img[2 * n + i]!);
      assert.ok(chroma / n > 0.03, `seed ${seed}: mean chroma ${chroma / n} (a grey image)`);
    }
  });

  it("observed equals static exactly wherever no sample saw a mover or a mover's shadow; masks lie inside that region", () => {
    let differing = 0;
    for (const seed of [21, 22, 23, 24, 25]) {
      const s = generateScene(seed, cfg({ movers: [1, 3] }));
      s.frames.forEach((f, i) => {
        const touched = s.truth[i]!.touched;
        const n = f.mask.length;
        for (let p = 0; p < n; p++) {
          const eq = f.image[p] === f.static[p] && f.image[n + p] === f.static[n + p] && f.image[2 * n + p] === f.static[2 * n + p];
          if (!touched[p]) assert.ok(eq, `seed ${seed} frame ${i} pixel ${p}: untouched but image ≠ static`);
          if (f.mask[p]) assert.equal(touched[p], 1, `seed ${seed} frame ${i} pixel ${p}: masked but untouched`);
          if (!eq) differing++;
        }
      });
    }
    assert.ok(differing > 100, `only ${differing} pixels differ between image and static: movers are not drawn`);
  });

  it("the static image is exactly the same scene rendered without movers (no mover shadows in it)", () => {
    for (const seed of [31, 32, 33]) {
      const withMovers = generateScene(seed, cfg({ movers: [2, 2] }));
      const without = generateScene(seed, cfg({ movers: [0, 0] }));
      assert.equal(withMovers.spec.movers.length, 2);
      withMovers.frames.forEach((f, i) => {
        assert.ok(same(f.static, without.frames[i]!.image), `seed ${seed} frame ${i}: static ≠ the mover-free render`);
        assert.ok(same(without.frames[i]!.image, without.frames[i]!.static), `seed ${seed} frame ${i}: no movers but image ≠ static`);
        assert.ok(without.frames[i]!.mask.every((x) => x === 0), `seed ${seed} frame ${i}: mask not empty without movers`);
      });
    }
  });

  it("with movers, masks are non-empty in most frames; the mask marks exactly the pixels whose centre sees a mover (1 sample)", () => {
    let frames = 0, nonEmpty = 0;
    for (let seed = 40; seed < 52; seed++) {
      const s = generateScene(seed, cfg({ movers: [1, 1], samplesPerPixel: 1 }));
      const nStatic = s.spec.statics.length;
      s.frames.forEach((f, i) => {
        frames++;
        if (f.mask.some((x) => x === 1)) nonEmpty++;
        const ids = s.truth[i]!.ids;
        assert.ok(f.mask.every((m, p) => m === (ids[p]! >= nStatic ? 1 : 0)), `seed ${seed} frame ${i}: mask ≠ (centre id is a mover)`);
      });
    }
    assert.ok(nonEmpty / frames >= 0.75, `only ${nonEmpty}/${frames} frames show their mover`);
  });

  it("hardCaseProb 1 dresses every mover in a background texture, 0 none", () => {
    for (const [prob, want] of [[1, true], [0, false]] as const) {
      for (const seed of [61, 62, 63]) {
        const s = generateScene(seed, cfg({ movers: [2, 3], hardCaseProb: prob }));
        const env = s.spec.env;
        const background = env.kind === "room" ? Object.values(env.textures) : [env.ground, ...env.buildings.map((b) => b.texture)];
        for (const m of s.spec.movers) {
          assert.equal(m.hardCase, want);
          assert.equal(background.includes(m.texture), want, `seed ${seed} ${m.kind}: texture ${m.texture} background? ${!want}`);
        }
      }
    }
  });
});

describe("ground truth agrees with the stored cameras", () => {
  const check = (s: SynthScene, stats: { seen: number; hidden: number }) => {
    s.frames.forEach((f, i) => {
      const { ids } = s.truth[i]!;
      for (const o of s.objects) {
        const c = o.centres[i]!;
        const cam = f.camera;
        const eye = [cam.c2w[3]!, cam.c2w[7]!, cam.c2w[11]!];
        // The point of a sphere facing the camera: its depth there is known in closed form.
        const r = o.half[0];
        const toEye = [eye[0]! - c[0], eye[1]! - c[1], eye[2]! - c[2]];
        const len = Math.hypot(toEye[0]!, toEye[1]!, toEye[2]!);
        const front = o.shape === "sphere" ? c.map((x, k) => x + (r * toEye[k]!) / len) : c;
        const q = project(cam.c2w, cam.fxfycxcy, front);
        const [px, py] = [Math.floor(q.x), Math.floor(q.y)];
        if (q.z <= 0.2 || px < 1 || py < 1 || px >= s.w - 1 || py >= s.h - 1) continue;
        const p = py * s.w + px;
        const depth = f.depth[p]!;
        if (ids[p] === o.id) {
          stats.seen++;
          if (o.shape === "sphere") assert.ok(Math.abs(depth - q.z) < 0.01 * q.z + 0.01, `sphere ${o.id} frame ${i}: depth ${depth} at its front point, expected ${q.z}`);
          else assert.ok(depth <= q.z + 1e-6, `object ${o.id} frame ${i}: surface at its centre's pixel is behind the centre`);
        } else {
          stats.hidden++;
          assert.ok(depth < q.z, `object ${o.id} frame ${i}: pixel (${px}, ${py}) shows id ${ids[p]} at depth ${depth}, behind the object (${q.z})`);
        }
      }
    });
  };

  it("projecting each object's centre (a sphere's front point) lands on that object, or on something in front of it", () => {
    const stats = { seen: 0, hidden: 0 };
    for (let seed = 70; seed < 80; seed++) check(generateScene(seed, cfg({ size: 64, samplesPerPixel: 1, movers: [1, 3] })), stats);
    assert.ok(stats.seen > 1.5 * stats.hidden && stats.seen > 100, `objects seen at their projected centres ${stats.seen} times, hidden ${stats.hidden}`);
  });
});

describe("every pixel centre sees what the stored camera's ray hits (1 sample per pixel)", () => {
  it("pixels whose ray (geometry/rays.ts pixelRay) hits a sphere show it at that depth, or something nearer", () => {
    let shown = 0, occluded = 0;
    for (let seed = 90; seed < 96; seed++) {
      const s = generateScene(seed, cfg({ size: 64, samplesPerPixel: 1, movers: [1, 3] }));
      s.frames.forEach((f, i) => {
        const { ids } = s.truth[i]!;
        const spheres = s.objects.filter((o) => o.shape === "sphere");
        for (let y = 0; y < s.h; y++) {
          for (let x = 0; x < s.w; x++) {
            const { origin: o, dir: d } = pixelRay(f.camera, x, y);
            const zOf = [f.camera.c2w[2]!, f.camera.c2w[6]!, f.camera.c2w[10]!]; // camera z axis
            const p = y * s.w + x;
            for (const sp of spheres) {
              const c = sp.centres[i]!, r = sp.half[0];
              const oc = [c[0] - o[0], c[1] - o[1], c[2] - o[2]];
              const b = oc[0]! * d[0] + oc[1]! * d[1] + oc[2]! * d[2];
              const miss2 = oc[0]! ** 2 + oc[1]! ** 2 + oc[2]! ** 2 - b * b - r * r; // > 0: the ray passes the sphere
              if (Math.abs(miss2) < 1e-6) continue; // grazing: either answer is right
              if (miss2 > 0) {
                assert.notEqual(ids[p], sp.id, `seed ${seed} frame ${i} (${x}, ${y}): sphere ${sp.id} drawn where the ray misses it`);
                continue;
              }
              const t = b - Math.sqrt(-miss2);
              const z = t * (d[0] * zOf[0]! + d[1] * zOf[1]! + d[2] * zOf[2]!);
              if (ids[p] === sp.id) {
                shown++;
                assert.ok(Math.abs(f.depth[p]! - z) < 1e-4 * z, `seed ${seed} frame ${i} (${x}, ${y}): depth ${f.depth[p]} ≠ ${z}`);
              } else {
                occluded++;
                assert.ok(f.depth[p]! < z, `seed ${seed} frame ${i} (${x}, ${y}): sphere ${sp.id} at ${z} hidden behind depth ${f.depth[p]}`);
              }
            }
          }
        }
      });
    }
    assert.ok(shown > 500, `spheres shown at only ${shown} pixels (${occluded} occluded)`);
  });
});

describe("anti-aliasing", () => {
  /** Seed `seed` recoloured to white objects on a black set with flat light: every sample is exactly 0 or 1. */
  const binaryScene = (seed: number, samplesPerPixel: number) => {
    const c = cfg({ movers: [0, 0], samplesPerPixel });
    const spec = makeSceneSpec(seed, c);
    const white = spec.textures.push({ kind: "solid", colors: [[1, 1, 1], [1, 1, 1], [1, 1, 1]], params: [] }) - 1;
    const black = spec.textures.push({ kind: "solid", colors: [[0, 0, 0], [0, 0, 0], [0, 0, 0]], params: [] }) - 1;
    for (const o of spec.statics) o.texture = white;
    if (spec.env.kind === "room") for (const k of Object.keys(spec.env.textures) as (keyof typeof spec.env.textures)[]) spec.env.textures[k] = black;
    else {
      spec.env.ground = black;
      for (const b of spec.env.buildings) b.texture = black;
      spec.env.skyHorizon = [0, 0, 0];
      spec.env.skyZenith = [0, 0, 0];
    }
    spec.light = { ...spec.light, ambient: 1, diffuse: 0, shadow: 0 };
    return renderSpec(spec, c).frames[0]!.image.subarray(0, 32 * 32); // red channel
  };

  it("edge pixels get intermediate values with 2×2 samples, and none with 1 sample", () => {
    let edges = 0;
    for (const seed of [81, 82, 83, 84]) {
      const one = binaryScene(seed, 1);
      assert.ok(one.every((x) => x === 0 || x === 1), `seed ${seed}: 1 sample per pixel gives an intermediate value`);
      if (!one.some((x) => x === 1)) continue; // no object in view in frame 0
      const four = binaryScene(seed, 4);
      four.forEach((x, p) => {
        if (x === 0 || x === 1) return;
        edges++;
        assert.ok([0.25, 0.5, 0.75].includes(x), `seed ${seed} pixel ${p}: ${x} is not a fraction of 4 samples`);
        // an edge pixel sits between the two sides: its neighbourhood in the 1-sample image holds both
        const [py, px] = [Math.floor(p / 32), p % 32];
        const near: number[] = [];
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (py + dy >= 0 && py + dy < 32 && px + dx >= 0 && px + dx < 32) near.push(one[(py + dy) * 32 + px + dx]!);
        assert.ok(near.includes(0) && near.includes(1), `seed ${seed} pixel ${p}: intermediate value away from any edge`);
      });
    }
    assert.ok(edges > 10, `only ${edges} anti-aliased edge pixels`);
  });
});
