/**
 * Procedural textures of the synthetic scenes: colour as a function of surface coordinates (u, v) in metres, with
 * random palettes. "smooth" kinds (solid, gentle gradient, two-tone split with one bold edge, wide bands, panels
 * such as windows and pictures) look like indoor RealEstate10K frames; "busy" kinds (checkers, stripes, value noise)
 * are high-frequency. docs/METHOD.md ("Small-model training") explains why the default data is mostly smooth: busy textures pin a small model to
 * the mean image. A texture is a readable `Texture` record in the scene spec and a packed row of numbers for the
 * ray caster, which evaluates it with `evalTexture` (no allocation per call).
 */
import type { Rng } from "../../engine/rng.ts";

export type Rgb = [number, number, number];

export type TextureKind = "solid" | "gradient" | "split" | "bands" | "panels" | "checker" | "stripes" | "noise";
export const SMOOTH_KINDS: readonly TextureKind[] = ["solid", "gradient", "split", "bands", "panels"];
export const BUSY_KINDS: readonly TextureKind[] = ["checker", "stripes", "noise"];

/**
 * One texture. `colors` are [base, second, third] in [0, 1]; `params` depend on the kind (metres, radians):
 * gradient [angle, origin, length] · split [angle, position] · bands [angle, period, phase] ·
 * panels [periodU, offsetU, widthU, periodV (0 = one row), offsetV, heightV, frame] · checker [angle, period] ·
 * stripes [angle, period] · noise [cell, seed]. Solid has none.
 */
export type Texture = { kind: TextureKind; colors: [Rgb, Rgb, Rgb]; params: number[] };

/** Numbers per packed texture: kind code, 3 × RGB, up to 8 params. */
export const TEXTURE_STRIDE = 18;
const KIND_CODE: Record<TextureKind, number> = { solid: 0, gradient: 1, split: 2, bands: 3, panels: 4, checker: 5, stripes: 6, noise: 7 };

/** Packs textures into one Float64Array, `TEXTURE_STRIDE` numbers each, in list order. */
export function packTextures(list: readonly Texture[]): Float64Array {
  const out = new Float64Array(list.length * TEXTURE_STRIDE);
  list.forEach((t, i) => {
    const b = i * TEXTURE_STRIDE;
    out[b] = KIND_CODE[t.kind];
    t.colors.forEach((c, k) => out.set(c, b + 1 + 3 * k));
    // Angles are stored as (cos, sin) so the hot loop needs no trigonometry.
    const p = t.params;
    const angled = t.kind === "gradient" || t.kind === "split" || t.kind === "bands" || t.kind === "checker" || t.kind === "stripes";
    const packed = angled ? [Math.cos(p[0] ?? 0), Math.sin(p[0] ?? 0), ...p.slice(1)] : p;
    out.set(packed.slice(0, TEXTURE_STRIDE - 10), b + 10);
  });
  return out;
}

const fract = (x: number): number => x - Math.floor(x);
const smooth01 = (x: number): number => x * x * (3 - 2 * x);

/** Hash of an integer lattice point and a seed to [0, 1). */
function hash2(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * Colour of packed texture `base` (an offset into `table`) at the surface coordinates (u, v) in metres found in
 * `out[0]`, `out[1]`; writes RGB into `out[0..2]` (in place: V8 would allocate for double arguments, layout.ts).
 * Hard edges are exact step functions: anti-aliasing comes from the ray caster's sub-pixel samples.
 */
export function evalTexture(table: Float64Array, base: number, out: Float64Array): void {
  const kind = table[base]!;
  if (kind === 0) {
    // solid: the common case, without the blend below
    out[0] = table[base + 1]!;
    out[1] = table[base + 2]!;
    out[2] = table[base + 3]!;
    return;
  }
  const u = out[0]!, v = out[1]!;
  const p = base + 10; // first param
  let w1 = 0; // weight of colour 1 (base colour weight = 1 − w1 − w2)
  let w2 = 0; // weight of colour 2
  switch (kind) {
    case 1: {
      // gentle linear gradient along a direction
      const s = (u * table[p]! + v * table[p + 1]! - table[p + 2]!) / table[p + 3]!;
      w1 = s < 0 ? 0 : s > 1 ? 1 : s;
      break;
    }
    case 2: // two-tone split: one bold straight edge
      w1 = u * table[p]! + v * table[p + 1]! < table[p + 2]! ? 0 : 1;
      break;
    case 3: {
      // wide bands cycling through the three colours
      const k = Math.floor((u * table[p]! + v * table[p + 1]!) / table[p + 2]! + table[p + 3]!);
      const m = ((k % 3) + 3) % 3;
      w1 = m === 1 ? 1 : 0;
      w2 = m === 2 ? 1 : 0;
      break;
    }
    case 4: {
      // panels: rectangles (windows, pictures, doors) in colour 1 with a frame in colour 2 on the base colour
      const pu = table[p]!, wu = table[p + 2]!, pv = table[p + 3]!, hv = table[p + 5]!, fr = table[p + 6]!;
      const mu = u - table[p + 1]! - pu * Math.floor((u - table[p + 1]!) / pu);
      const dv = v - table[p + 4]!;
      const mv = pv > 0 ? dv - pv * Math.floor(dv / pv) : dv;
      if (mu < wu && mv >= 0 && mv < hv) {
        if (mu < fr || mu > wu - fr || mv < fr || mv > hv - fr) w2 = 1;
        else w1 = 1;
      }
      break;
    }
    case 5: {
      // checkers on a rotated grid
      const a = (u * table[p]! + v * table[p + 1]!) / table[p + 2]!;
      const b = (v * table[p]! - u * table[p + 1]!) / table[p + 2]!;
      w1 = (Math.floor(a) + Math.floor(b)) & 1;
      break;
    }
    case 6: // thin stripes
      w1 = fract((u * table[p]! + v * table[p + 1]!) / table[p + 2]!) < 0.5 ? 0 : 1;
      break;
    case 7: {
      // value noise: bilinear between hashed lattice values, smoothstep-weighted
      const x = u / table[p]!, y = v / table[p]!;
      const ix = Math.floor(x), iy = Math.floor(y);
      const fx = smooth01(x - ix), fy = smooth01(y - iy);
      const seed = table[p + 1]! | 0;
      const a = hash2(ix, iy, seed), b = hash2(ix + 1, iy, seed), c = hash2(ix, iy + 1, seed), d = hash2(ix + 1, iy + 1, seed);
      const n = a + (b - a) * fx + (c - a + (a - b - c + d) * fx) * fy; // [0, 1)
      w1 = n; // blends the base colour into colour 1
      break;
    }
  }
  const w0 = 1 - w1 - w2;
  out[0] = w0 * table[base + 1]! + w1 * table[base + 4]! + w2 * table[base + 7]!;
  out[1] = w0 * table[base + 2]! + w1 * table[base + 5]! + w2 * table[base + 8]!;
  out[2] = w0 * table[base + 3]! + w1 * table[base + 6]! + w2 * table[base + 9]!;
}

// ---------------------------------------------------------------------------------------------------------------
// Random palettes and textures (scene set-up, not the hot loop).

/** HSL (hue in turns, saturation and lightness in [0, 1]) → RGB in [0, 1]. */
export function hslToRgb(h: number, s: number, l: number): Rgb {
  const k = (n: number) => (n + h * 12) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
  return [f(0), f(8), f(4)];
}

/** A scene palette: a base hue and a harmony (analogous, complementary or triadic offsets, in turns). */
export type Palette = { hue: number; offsets: number[] };

export function randomPalette(rng: Rng): Palette {
  const harmonies = [
    [0, 0.08, -0.08], // analogous
    [0, 0.5, 0.06], // complementary
    [0, 1 / 3, 2 / 3], // triadic
    [0, 0.42, 0.58], // split complementary
  ];
  return { hue: rng.next(), offsets: harmonies[rng.int(harmonies.length)]! };
}

/** What a surface is, which sets its lightness and saturation ranges. */
export type SurfaceRole = "wall" | "floor" | "ceiling" | "object" | "facade" | "ground" | "person";

const TONES: Record<SurfaceRole, { s: [number, number]; l: [number, number] }> = {
  wall: { s: [0.12, 0.5], l: [0.55, 0.85] },
  ceiling: { s: [0.0, 0.25], l: [0.75, 0.92] },
  floor: { s: [0.2, 0.6], l: [0.25, 0.55] },
  object: { s: [0.4, 0.85], l: [0.3, 0.65] },
  facade: { s: [0.15, 0.55], l: [0.4, 0.75] },
  ground: { s: [0.05, 0.3], l: [0.3, 0.5] },
  person: { s: [0.3, 0.8], l: [0.2, 0.6] },
};

/** A colour from `palette` for a surface role (a random hue of the harmony, jittered a little). */
export function paletteColor(rng: Rng, palette: Palette, role: SurfaceRole): Rgb {
  const t = TONES[role];
  const hue = palette.hue + palette.offsets[rng.int(palette.offsets.length)]! + rng.uniform(-0.03, 0.03);
  return hslToRgb(fract(hue), rng.uniform(t.s[0], t.s[1]), rng.uniform(t.l[0], t.l[1]));
}

/** A second colour clearly different in lightness from `c` (so edges and bands are visible). */
function contrasting(rng: Rng, palette: Palette, role: SurfaceRole, c: Rgb): Rgb {
  const lum = (x: Rgb) => 0.3 * x[0] + 0.59 * x[1] + 0.11 * x[2];
  let best = paletteColor(rng, palette, role);
  for (let i = 0; i < 4 && Math.abs(lum(best) - lum(c)) < 0.12; i++) best = paletteColor(rng, palette, role);
  return best;
}

/**
 * A random texture for a surface. `busy` picks from the high-frequency kinds; otherwise the smooth kinds, with
 * panels (windows, pictures, doors) mostly on walls and facades.
 */
export function randomTexture(rng: Rng, palette: Palette, role: SurfaceRole, busy: boolean): Texture {
  const c0 = paletteColor(rng, palette, role);
  const c1 = contrasting(rng, palette, role === "wall" || role === "facade" ? "object" : role, c0);
  const c2 = paletteColor(rng, palette, role === "facade" ? "floor" : "object");
  const colors: [Rgb, Rgb, Rgb] = [c0, c1, c2];
  // Edges, bands and gradients run mostly along the surface axes (wainscots, floor boards), sometimes at a slant.
  const angle = rng.next() < 0.7 ? (rng.int(4) * Math.PI) / 2 + rng.uniform(-0.05, 0.05) : rng.uniform(0, 2 * Math.PI);
  let kind: TextureKind;
  if (busy) kind = BUSY_KINDS[rng.int(BUSY_KINDS.length)]!;
  else if (role === "facade") kind = rng.next() < 0.8 ? "panels" : "bands";
  else if (role === "wall") kind = (["solid", "gradient", "split", "bands", "panels", "panels"] as const)[rng.int(6)]!;
  else if (role === "ceiling") kind = rng.next() < 0.7 ? "solid" : "gradient";
  else if (role === "person") kind = "split";
  else kind = (["solid", "solid", "gradient", "split", "bands"] as const)[rng.int(5)]!;
  switch (kind) {
    case "solid":
      return { kind, colors, params: [] };
    case "gradient":
      return { kind, colors, params: [angle, rng.uniform(-3, 3), rng.uniform(3, 8)] };
    case "split":
      // person: shirt over trousers, split at a height given by the caller's v origin (v = 0 at the centre)
      return role === "person"
        ? { kind, colors, params: [Math.PI / 2, rng.uniform(-0.1, 0.15)] }
        : { kind, colors, params: [angle, rng.uniform(-1.5, 1.5)] };
    case "bands":
      return { kind, colors, params: [rng.next() < 0.5 ? 0 : Math.PI / 2, rng.uniform(0.5, 1.6), rng.next()] };
    case "panels":
      return role === "facade"
        ? { kind, colors, params: [rng.uniform(1.8, 3.2), rng.next() * 3, rng.uniform(0.8, 1.4), rng.uniform(2.8, 3.6), rng.next() * 3, rng.uniform(1.0, 1.8), rng.uniform(0.05, 0.12)] }
        : // a row of pictures or windows at eye level on a wall (v is world y, pointing down; the camera is at y ≈ 0)
          { kind, colors, params: [rng.uniform(1.6, 3.5), rng.next() * 3, rng.uniform(0.5, 1.3), 0, rng.uniform(-0.9, -0.3), rng.uniform(0.5, 1.2), rng.uniform(0.03, 0.1)] };
    case "checker":
      return { kind, colors, params: [angle, rng.uniform(0.08, 0.25)] };
    case "stripes":
      return { kind, colors, params: [angle, rng.uniform(0.05, 0.2)] };
    case "noise":
      return { kind, colors, params: [rng.uniform(0.05, 0.15), rng.int(1 << 30)] };
  }
}
