/**
 * Measuring the pseudo-mask pipeline (src/masks) against ground truth with a stand-in renderer: on synthetic
 * dynamic scenes the generator's clean static frame is a perfect static rendering; `degradeStatic` makes it
 * imperfect at graded strengths (blur, noise, a sub-pixel shift, a colour shift), like a renderer that is still
 * learning, so the pipeline's quality can be told apart from the renderer's. `evaluatePseudoMasks` runs the
 * pipeline on held-out scenes (patch features from the bundled backbone, run here: eval/ may import features/) and
 * returns the mean IoU against the true motion masks.
 */
import { numpy as np } from "@jax-js/jax";
import { makeRng } from "../engine/rng.ts";
import { HELD_OUT_SEED_START, type SynthConfig } from "../data/config.ts";
import { generateScene } from "../data/synth/index.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import { maskIou, pseudoMasks, type PseudoMaskOptions } from "../masks/pipeline.ts";

/** Degradation strengths: 0 none … 3 strong. */
export const DEGRADATION_LEVELS = [
  { name: "none", blur: 0, noise: 0, shift: 0, colour: 0 },
  { name: "mild", blur: 0.5, noise: 0.01, shift: 0.25, colour: 0.02 },
  { name: "moderate", blur: 1.0, noise: 0.02, shift: 0.5, colour: 0.04 },
  { name: "strong", blur: 1.5, noise: 0.04, shift: 1.0, colour: 0.08 },
] as const;
export type Degradation = (typeof DEGRADATION_LEVELS)[number];

/** A degraded copy of planar RGB `img` [3, h, w]: shift (bilinear), separable Gaussian blur, colour gain, noise. */
export function degradeStatic(img: Float32Array, h: number, w: number, d: Degradation, seed: number): Float32Array {
  const rng = makeRng(seed);
  const n = h * w;
  let out = Float32Array.from(img);
  if (d.shift > 0) {
    const angle = rng.next() * 2 * Math.PI;
    const [dx, dy] = [d.shift * Math.cos(angle), d.shift * Math.sin(angle)];
    const src = out;
    out = new Float32Array(3 * n);
    const at = (c: number, y: number, x: number) => src[c * n + Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))]!;
    for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const sx = x - dx;
      const sy = y - dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      out[c * n + y * w + x] = (1 - fy) * ((1 - fx) * at(c, y0, x0) + fx * at(c, y0, x0 + 1)) + fy * ((1 - fx) * at(c, y0 + 1, x0) + fx * at(c, y0 + 1, x0 + 1));
    }
  }
  if (d.blur > 0) {
    const r = Math.ceil(3 * d.blur);
    const taps = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * d.blur * d.blur)));
    const sum = taps.reduce((a, b) => a + b, 0);
    const k = taps.map((t) => t / sum);
    for (let c = 0; c < 3; c++) {
      const tmp = new Float32Array(n);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        let s = 0;
        for (let t = -r; t <= r; t++) s += k[t + r]! * out[c * n + y * w + Math.min(w - 1, Math.max(0, x + t))]!;
        tmp[y * w + x] = s;
      }
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        let s = 0;
        for (let t = -r; t <= r; t++) s += k[t + r]! * tmp[Math.min(h - 1, Math.max(0, y + t)) * w + x]!;
        out[c * n + y * w + x] = s;
      }
    }
  }
  const gains = [0, 1, 2].map(() => 1 + d.colour * (2 * rng.next() - 1));
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const v = out[c * n + i]! * gains[c]! + d.noise * (rng.next() + rng.next() + rng.next() - 1.5) * 2;
      out[c * n + i] = Math.min(1, Math.max(0, v));
    }
  }
  return out;
}

/**
 * Mean IoU of the pipeline's masks against the true masks over `scenes` held-out scenes (seeds from
 * HELD_OUT_SEED_START + `offset`), with the static frames degraded at `level`.
 */
export async function evaluatePseudoMasks(
  fx: FeatureExtractor,
  tap: { name: string; stride: number },
  data: SynthConfig,
  opts: { scenes: number; level: Degradation; options?: Partial<PseudoMaskOptions>; offset?: number },
): Promise<{ miou: number; frames: number }> {
  const ious: number[] = [];
  const S = data.size;
  const g = S / tap.stride;
  for (let i = 0; i < opts.scenes; i++) {
    const seed = HELD_OUT_SEED_START + (opts.offset ?? 20_000) + i;
    const scene = generateScene(seed, data);
    const targets = scene.frames.map((f) => f.image);
    const renders = scene.frames.map((f, j) => degradeStatic(f.static ?? f.image, S, S, opts.level, seed * 16 + j));
    const feats = async (imgs: Float32Array[]) => {
      const x = new Float32Array(imgs.length * 3 * S * S);
      imgs.forEach((im, j) => x.set(im, j * 3 * S * S));
      const out = fx.extract(np.array(x).reshape([imgs.length, 3, S, S]), [tap.name]).get(tap.name)!;
      return { data: (await out.data()) as Float32Array };
    };
    const ft = await feats(targets);
    const fr = await feats(renders);
    const c = ft.data.length / (targets.length * g * g);
    const r = await pseudoMasks({ targets, renders, h: S, w: S, featTargets: ft.data, featRenders: fr.data, channels: c, grid: g }, opts.options);
    r.masks.forEach((m, j) => ious.push(maskIou(m, scene.frames[j]!.mask ?? new Uint8Array(S * S))));
  }
  return { miou: ious.reduce((a, b) => a + b, 0) / ious.length, frames: ious.length };
}
