/**
 * The `masks --debug` page: for each window of a clip, every stage of the pseudo-mask pipeline side by side, one
 * column per target frame — the frame, the static rendering (the model's or the warp renderer's), the three dissimilarity maps, the fused
 * z-scored evidence, the k-means clusters, the clusters the vote kept, the patch mask, the mask after morphology, the
 * final mask after GrabCut, and the final mask over the frame. Patch-grid maps are shown at the frame's size
 * (nearest), dissimilarities colour-mapped (turbo) over the window's range, z-scores over [−1, 4].
 */
import { encodeMaskPng, encodePng } from "../data/images.ts";
import type { Scene } from "../data/scene.ts";
import { upsampleNearest } from "../masks/refine.ts";
import type { WindowMasks } from "../pipeline/clipMasks.ts";
import { escapeHtml, turbo, type ReportSection } from "./report.ts";

type Tile = { kind: "rgb"; image: Float32Array } | { kind: "mask"; mask: Uint8Array };

/** A [gh·gw] map (one frame's slice) coloured with turbo over [lo, hi], at h × w. */
function colourMap(map: Float32Array, gh: number, gw: number, h: number, w: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(3 * h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = map[Math.floor((y * gh) / h) * gw + Math.floor((x * gw) / w)]!;
      const rgb = turbo(hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0);
      for (let c = 0; c < 3; c++) out[c * h * w + y * w + x] = rgb[c]!;
    }
  }
  return out;
}

/** Distinct colours for cluster ids (golden-angle hues), brighter for voted clusters. */
function clusterMap(labels: Int32Array, voted: Uint8Array, gh: number, gw: number, h: number, w: number): Float32Array {
  const out = new Float32Array(3 * h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = Math.floor((y * gh) / h) * gw + Math.floor((x * gw) / w);
      const hue = (labels[p]! * 137.508) % 360;
      const [r, gg, b] = hsl(hue, 0.65, voted[p] ? 0.6 : 0.3);
      out[y * w + x] = r;
      out[h * w + y * w + x] = gg;
      out[2 * h * w + y * w + x] = b;
    }
  }
  return out;
}

function hsl(hDeg: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + hDeg / 30) % 12;
    return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [f(0), f(8), f(4)];
}

/** The frame (planar [3, h, w]) with the mask (1 = moving, [h, w]) tinted: half red where moving. */
export function overlayMask(image: Float32Array, mask: Uint8Array): Float32Array {
  const n = mask.length;
  const out = Float32Array.from(image);
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    out[i] = 0.5 * out[i]! + 0.5;
    out[n + i] = 0.5 * out[n + i]!;
    out[2 * n + i] = 0.5 * out[2 * n + i]!;
  }
  return out;
}

function range(xs: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of xs) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

/**
 * One section per window; image paths under `folder/`. `heading` names a window (default: its input frames). When
 * the clip has its own masks for the targets, a row shows them under the final mask.
 */
export async function maskDebugSections(
  clip: Scene,
  windows: readonly WindowMasks[],
  folder = "debug_files",
  heading: (wi: number, win: WindowMasks["window"]) => string = (wi, win) => `window ${wi + 1}: inputs ${win.inputs.map((f) => clip.frames[f]!.name).join(", ")}`,
  renderNote = "the model, from the window's two inputs",
): Promise<ReportSection[]> {
  const { h, w } = clip;
  const scale = w <= 32 ? 4 : w < 128 ? 2 : 1;
  const sections: ReportSection[] = [];
  for (const [wi, { window: win, renders, result }] of windows.entries()) {
    const st = result.stages;
    const t = win.targets.length;
    const n = st.feat.length / t;
    // the patch grid has the frame's aspect (square patches): gw / gh = w / h
    const gw = Math.round(Math.sqrt((n * w) / h));
    const gh = n / gw;
    const slice = <T extends Float32Array | Uint8Array | Int32Array>(a: T, j: number) => a.subarray(j * n, (j + 1) * n) as T;
    const ranges = { feat: range(st.feat), ssim: range(st.ssim), mse: range(st.mse) };
    const rows: { label: string; note?: string; tiles: Tile[] }[] = [
      { label: "frame", tiles: win.targets.map((f) => ({ kind: "rgb", image: clip.frames[f]!.image })) },
      { label: "static rendering", note: renderNote, tiles: renders.map((image) => ({ kind: "rgb", image })) },
      ...(["feat", "ssim", "mse"] as const).map((k) => ({
        label: { feat: "feature dissimilarity", ssim: "SSIM dissimilarity", mse: "colour residual" }[k],
        note: `${ranges[k][0].toPrecision(2)}–${ranges[k][1].toPrecision(2)}`,
        tiles: win.targets.map((_, j): Tile => ({ kind: "rgb", image: colourMap(slice(st[k], j), gh, gw, h, w, ranges[k][0], ranges[k][1]) })),
      })),
      { label: "fused evidence", note: "z-scores, −1 (blue) … 4 (red)", tiles: win.targets.map((_, j) => ({ kind: "rgb", image: colourMap(slice(st.evidence, j), gh, gw, h, w, -1, 4) })) },
    ];
    if (st.clusters.length > 0) {
      rows.push({
        label: "k-means clusters",
        note: "voted clusters bright",
        tiles: win.targets.map((_, j) => ({ kind: "rgb", image: clusterMap(slice(st.clusters, j), slice(st.voted, j), gh, gw, h, w) })),
      });
      rows.push({ label: "voted clusters", tiles: win.targets.map((_, j) => ({ kind: "mask", mask: upsampleNearest(slice(st.voted, j), gh, gw, h, w) })) });
    }
    rows.push(
      { label: "patch mask", tiles: st.upsampled.map((mask) => ({ kind: "mask", mask })) },
      { label: "morphology", tiles: st.morphology.map((mask) => ({ kind: "mask", mask })) },
      { label: "final (GrabCut)", tiles: result.masks.map((mask) => ({ kind: "mask", mask })) },
      ...(win.targets.every((f) => clip.frames[f]!.mask)
        ? [{ label: "true mask", note: "the input's own, for comparison", tiles: win.targets.map((f): Tile => ({ kind: "mask", mask: clip.frames[f]!.mask! })) }]
        : []),
      { label: "overlay", tiles: result.masks.map((mask, j) => ({ kind: "rgb", image: overlayMask(clip.frames[win.targets[j]!]!.image, mask) })) },
    );
    const images = new Map<string, Uint8Array>();
    const body: string[] = [];
    for (const [ri, row] of rows.entries()) {
      const cells: string[] = [];
      for (const [j, tile] of row.tiles.entries()) {
        const path = `${folder}/w${String(wi).padStart(3, "0")}_r${String(ri).padStart(2, "0")}_${j}.png`;
        images.set(path, tile.kind === "rgb" ? await encodePng(tile.image, h, w) : await encodeMaskPng(tile.mask, h, w));
        cells.push(`<td><img src="${path}" width="${w * scale}" height="${h * scale}" alt="${escapeHtml(row.label)}"></td>`);
      }
      const note = row.note ? `<br><span class="note">${escapeHtml(row.note)}</span>` : "";
      body.push(`<tr><th>${escapeHtml(row.label)}${note}</th>${cells.join("")}</tr>`);
    }
    const names = (fs: number[]) => fs.map((f) => escapeHtml(clip.frames[f]!.name)).join(", ");
    const head = `<tr><th></th>${win.targets.map((f) => `<th class="frame">${escapeHtml(clip.frames[f]!.name)}</th>`).join("")}</tr>`;
    sections.push({
      html: `<section><h2>${escapeHtml(heading(wi, win))}</h2><p class="caption">targets ${names(win.targets)}</p><table>${head}${body.join("")}</table></section>`,
      images,
    });
  }
  return sections;
}
