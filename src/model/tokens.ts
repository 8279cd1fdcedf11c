/**
 * Image tokenizer and positional embeddings (docs/METHOD.md §2.4). Images [b, v, 3, h, w] in [0, 1] are mapped to [−1, 1],
 * patchified and projected to width d (no bias); a fixed sin-cos table — spatial `[E(col), E(row)]` in the first
 * half of the width, the view index `E(view)` in the second half (zeros when the view-index embedding is off) —
 * goes through a small MLP (d → d, SiLU, d → d) and is added. These "image tokens" exist before any camera is
 * estimated; the camera estimator, scene encoder and motion estimator all read them.
 */
import { nn, numpy as np, random, type Array as JArray } from "@jax-js/jax";
import { initLinear, linear, patchify, type Linear } from "../engine/layers.ts";
import { gridSize, tokensPerView, type ModelConfig } from "./config.ts";

export type PeMlp = { fc1: Linear; fc2: Linear };
export type TokenizerParams = { proj: Linear; pe: PeMlp };

/**
 * `E_m(pos) = [sin(pos·ωᵢ)]_{i<m/2} ++ [cos(pos·ωᵢ)]_{i<m/2}`, `ωᵢ = 10000^(−i/(m/2))` (docs/METHOD.md §2.4), on the host.
 * Returns `positions.length × m` values, row-major.
 */
export function sinCos(m: number, positions: readonly number[]): Float32Array {
  const half = m / 2;
  const out = new Float32Array(positions.length * m);
  positions.forEach((pos, r) => {
    for (let i = 0; i < half; i++) {
      const w = Math.pow(10000, -i / half);
      out[r * m + i] = Math.sin(pos * w);
      out[r * m + half + i] = Math.cos(pos * w);
    }
  });
  return out;
}

/**
 * The fixed [v, n, d] table: `[E_{d/4}(col), E_{d/4}(row), E_{d/2}(view)]` per token (view part 0 when off);
 * `spatialPe: "rowCol"` swaps the two spatial quarters (RayZer's order).
 */
export function positionTable(cfg: ModelConfig): Float32Array {
  const g = gridSize(cfg);
  const n = tokensPerView(cfg);
  const { d, views } = cfg;
  const table = new Float32Array(views * n * d);
  const view = sinCos(d / 2, Array.from({ length: views }, (_, i) => i));
  for (let vi = 0; vi < views; vi++) {
    for (let t = 0; t < n; t++) {
      const row = Math.floor(t / g);
      const col = t % g;
      const base = (vi * n + t) * d;
      const [first, second] = cfg.spatialPe === "rowCol" ? [row, col] : [col, row];
      table.set(sinCos(d / 4, [first]), base);
      table.set(sinCos(d / 4, [second]), base + d / 4);
      if (cfg.viewIndexEmbedding) table.set(view.subarray(vi * (d / 2), (vi + 1) * (d / 2)), base + d / 2);
    }
  }
  return table;
}

/** d → d (bias) → SiLU → d → d (bias), N(0, 0.02) init (docs/METHOD.md §2.3). */
export function initPeMlp(key: JArray, d: number): PeMlp {
  const [k1, k2] = random.split(key, 2) as unknown as [JArray, JArray];
  return { fc1: initLinear(k1, d, d, { bias: true }), fc2: initLinear(k2, d, d, { bias: true }) };
}

/** Consumes `p`, `x` [..., d]; returns [..., d]. */
export function runPeMlp(p: PeMlp, x: JArray): JArray {
  return linear(p.fc2, nn.silu(linear(p.fc1, x)));
}

export function initTokenizer(key: JArray, cfg: ModelConfig): TokenizerParams {
  const [kProj, kPe] = random.split(key, 2) as unknown as [JArray, JArray];
  return { proj: initLinear(kProj, cfg.patch * cfg.patch * 3, cfg.d), pe: initPeMlp(kPe, cfg.d) };
}

/**
 * Image tokens with positional embedding. Shapes: b samples, v views (≤ cfg.views), n tokens per view.
 * Consumes `p` and `images` [b, v, 3, h, w] in [0, 1]; returns [b, v, n, d].
 */
export function runTokenizer(p: TokenizerParams, images: JArray, cfg: ModelConfig): JArray {
  const [b, v, c, h, w] = images.shape as [number, number, number, number, number];
  const n = tokensPerView(cfg);
  const patches = patchify(images.mul(2).sub(1).reshape([b * v, c, h, w]), cfg.patch); // [b·v, n, p·p·3]
  const tokens = linear(p.proj, patches).reshape([b, v, n, cfg.d]); // [b, v, n, d]
  const table = np.array(positionTable(cfg)).reshape([cfg.views, n, cfg.d]).slice([0, v]); // [v, n, d]
  return tokens.add(runPeMlp(p.pe, table)); // [b, v, n, d]; the PE broadcasts over b
}

/** Plücker images → ray tokens. Consumes `tok` and `rays` [b, k, 6, h, w]; returns [b, k, n, d]. */
export function rayTokens(tok: Linear, rays: JArray, cfg: ModelConfig): JArray {
  const [b, k, c, h, w] = rays.shape as [number, number, number, number, number];
  const patches = patchify(rays.reshape([b * k, c, h, w]), cfg.patch); // [b·k, n, p·p·6]
  return linear(tok, patches).reshape([b, k, tokensPerView(cfg), cfg.d]); // [b, k, n, d]
}
