/**
 * A small hand-made `Scene` for IO and report tests: seeded random images, a moving square as the mask, depth
 * that varies across the image, and cameras on a circle looking at the origin. Independent of the synthetic
 * generator (src/data/synth/), so these tests do not depend on it.
 */
import { makeRng } from "../../src/engine/rng.ts";
import { lookAt } from "../../src/geometry/mat4.ts";
import type { Frame, Scene } from "../../src/data/scene.ts";

export type FakeSceneOptions = { h?: number; w?: number; frames?: number; seed?: number; name?: string };

/** A scene with every optional field filled in; `h` ≠ `w` by default so a transposed axis shows up. */
export function fakeScene(opts: FakeSceneOptions = {}): Scene {
  const { h = 24, w = 32, frames = 3, seed = 1, name = `fake_${seed}` } = opts;
  const rng = makeRng(seed);
  const out: Frame[] = [];
  for (let t = 0; t < frames; t++) {
    const image = Float32Array.from({ length: 3 * h * w }, () => rng.next());
    const stat = Float32Array.from({ length: 3 * h * w }, () => rng.next());
    const mask = new Uint8Array(h * w);
    const depth = new Float32Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        mask[y * w + x] = x >= 2 + t && x < 8 + t && y >= 3 && y < 9 ? 1 : 0; // a square moving right
        depth[y * w + x] = 0.5 + 0.37 * x + 1.13 * y + 0.0004 * t; // 0.5 … ~35 units, not on the mm grid
      }
    }
    const angle = (t / frames) * Math.PI;
    const eye: [number, number, number] = [3 * Math.sin(angle), -0.5 + 0.1 * t, -3 * Math.cos(angle)];
    out.push({
      name: String(t).padStart(5, "0"),
      image,
      static: stat,
      mask,
      depth,
      camera: { c2w: lookAt(eye, [0, 0, 0]), fxfycxcy: [30.5 + t, 31.25, w / 2 + 0.25, h / 2 - 0.5] },
    });
  }
  return { name, h, w, frames: out };
}
