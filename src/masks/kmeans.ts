/**
 * k-means for the pseudo-mask vote (docs/METHOD.md §5 step 6): k-means++ initialisation from a seeded generator (first
 * centre uniform, each next one with probability ∝ squared distance to the nearest chosen centre), then Lloyd
 * iterations (at most `maxIter`, stopping when no centre moves more than `tol`); an empty cluster keeps its centre.
 * Points are rows of a flat [n, d] array; Euclidean distance.
 */
import { makeRng } from "../engine/rng.ts";

export type KMeansResult = { labels: Int32Array; centres: Float64Array; iterations: number };

export function kmeans(points: Float32Array, n: number, d: number, k: number, opts: { seed?: number; maxIter?: number; tol?: number } = {}): KMeansResult {
  if (points.length !== n * d) throw new Error(`kmeans: ${points.length} values are not ${n} points of ${d}`);
  const kk = Math.min(k, n);
  const rng = makeRng(opts.seed ?? 42);
  const maxIter = opts.maxIter ?? 20;
  const tol = opts.tol ?? 1e-4;
  const centres = new Float64Array(kk * d);
  const dist2 = (i: number, c: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (points[i * d + j]! - centres[c * d + j]!) ** 2;
    return s;
  };
  // k-means++
  const first = rng.int(n);
  for (let j = 0; j < d; j++) centres[j] = points[first * d + j]!;
  const nearest = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < kk; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = Math.min(nearest[i]!, dist2(i, c - 1));
      total += nearest[i]!;
    }
    let pick = n - 1;
    if (total > 0) {
      let r = rng.next() * total;
      for (let i = 0; i < n; i++) {
        r -= nearest[i]!;
        if (r < 0) {
          pick = i;
          break;
        }
      }
    } else pick = rng.int(n);
    for (let j = 0; j < d; j++) centres[c * d + j] = points[pick * d + j]!;
  }
  const labels = new Int32Array(n);
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < kk; c++) {
        const dd = dist2(i, c);
        if (dd < bestD) {
          bestD = dd;
          best = c;
        }
      }
      labels[i] = best;
    }
    const sums = new Float64Array(kk * d);
    const counts = new Int32Array(kk);
    for (let i = 0; i < n; i++) {
      counts[labels[i]!]!++;
      for (let j = 0; j < d; j++) sums[labels[i]! * d + j] = sums[labels[i]! * d + j]! + points[i * d + j]!;
    }
    let moved = 0;
    for (let c = 0; c < kk; c++) {
      if (counts[c] === 0) continue; // an empty cluster keeps its centre
      let m = 0;
      for (let j = 0; j < d; j++) {
        const v = sums[c * d + j]! / counts[c]!;
        m += (v - centres[c * d + j]!) ** 2;
        centres[c * d + j] = v;
      }
      moved = Math.max(moved, Math.sqrt(m));
    }
    if (moved < tol) break;
  }
  return { labels, centres, iterations };
}
