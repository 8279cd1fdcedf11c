/**
 * A hand-made panning clip with a mover, for the warp renderer and differencing tests: a textured background plane
 * (smooth sinusoids plus sharp-edged tiles, so ORB finds corners) seen through known homographies (a pan: a
 * translation of `panPx` per frame plus a slight rotation and zoom), and a solid disc of a colour the background
 * never has, moving `moverPx` per frame against the background. Returns the frames, the clean frames (background
 * only) and the true masks.
 */
export type PanClip = { frames: Float32Array[]; clean: Float32Array[]; masks: Uint8Array[]; h: number; w: number };

/** Background colour at plane point (u, v), channels in [0.1, 0.9]. */
function background(u: number, v: number): [number, number, number] {
  const tile = (Math.floor(u / 11) * 7 + Math.floor(v / 9) * 13) % 5; // sharp-edged tiles
  const r = 0.5 + 0.2 * Math.sin(u / 7) + 0.12 * (tile / 4 - 0.5);
  const g = 0.5 + 0.2 * Math.cos(v / 6 + u / 23) + 0.15 * ((tile % 3) / 2 - 0.5);
  const b = 0.45 + 0.15 * Math.sin((u + v) / 9) - 0.1 * (tile / 4 - 0.5);
  return [r, g, b];
}

export function panClip(opts: { frames?: number; h?: number; w?: number; panPx?: number; moverPx?: number; radius?: number; moverStart?: [number, number] } = {}): PanClip {
  const { frames = 7, h = 64, w = 96, panPx = 3, moverPx = 9, radius = 6 } = opts;
  const [mx0, my0] = opts.moverStart ?? [12, 36];
  const n = h * w;
  const out: PanClip = { frames: [], clean: [], masks: [], h, w };
  for (let i = 0; i < frames; i++) {
    const angle = 0.004 * i; // radians
    const zoom = 1 + 0.003 * i;
    const [c, s] = [Math.cos(angle) * zoom, Math.sin(angle) * zoom];
    const [tx, ty] = [panPx * i, 0.5 * i];
    const frame = new Float32Array(3 * n);
    const clean = new Float32Array(3 * n);
    const mask = new Uint8Array(n);
    // the mover's centre in this frame's pixels: it walks right across the image, faster than the pan
    const [cx, cy] = [mx0 + moverPx * i, my0 + 2 * Math.sin(i)];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // pixel → plane: rotation/zoom about the image centre, then the pan
        const [dx, dy] = [x - w / 2, y - h / 2];
        const u = c * dx - s * dy + w / 2 + tx;
        const v = s * dx + c * dy + h / 2 + ty;
        const bg = background(u, v);
        const inside = (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius;
        const o = y * w + x;
        mask[o] = inside ? 1 : 0;
        for (let k = 0; k < 3; k++) {
          clean[k * n + o] = bg[k]!;
          frame[k * n + o] = inside ? [0.95, 0.05, 0.95][k]! : bg[k]!;
        }
      }
    }
    out.frames.push(frame);
    out.clean.push(clean);
    out.masks.push(mask);
  }
  return out;
}
