/**
 * A self-contained HTML report of scenes: per scene, one row each of observed frames, clean static frames, motion
 * masks and colour-mapped depth, plus an SVG top view of the camera path. `buildReport` returns the page and its
 * PNGs as bytes (paths relative to the page); `writeReport` writes them atomically beside each other, images first,
 * so the page never points at a missing file. The page has no scripts, fonts or timestamps: the same scenes give
 * the same bytes. Small images are shown enlarged with `image-rendering: pixelated`.
 */
import { join } from "node:path";
import { DEPTH_PNG_SCALE, encodeMaskPng, encodePng } from "../data/images.ts";
import type { Frame, Scene } from "../data/scene.ts";
import { writeFileAtomic } from "../engine/files.ts";

export type ReportScene = { scene: Scene; /** One line under the scene's title (how it was made). */ caption?: string };

/** Extra HTML placed before the scenes, with the images it points at (paths relative to the page). */
export type ReportSection = { html: string; images: Map<string, Uint8Array> };

export type ReportOptions = {
  title: string;
  /** One line first under the title, set off: what was found and how long it took. */
  verdict?: string;
  /** A paragraph under the verdict: what the page shows, in order. */
  intro?: string;
  /** Sections shown before the scenes (model results). */
  sections?: ReportSection[];
  scenes: ReportScene[];
};

/** The page and its images, keyed by path relative to the page. */
export type ReportFiles = { html: string; images: Map<string, Uint8Array> };

type Row = { label: string; key: "image" | "static" | "mask" | "depth" };
const ROWS: Row[] = [
  { label: "observed", key: "image" },
  { label: "static (no movers)", key: "static" },
  { label: "motion mask", key: "mask" },
  { label: "depth", key: "depth" },
];
/** Folder of the report's images, beside the page. */
export const REPORT_FILES_DIR = "report_files";

/** Builds the page and encodes every image it shows. */
export async function buildReport(opts: ReportOptions): Promise<ReportFiles> {
  const images = new Map<string, Uint8Array>();
  const sections: string[] = [];
  for (const extra of opts.sections ?? []) {
    sections.push(extra.html);
    for (const [k, v] of extra.images) images.set(k, v);
  }
  for (const [i, { scene, caption }] of opts.scenes.entries()) {
    const folder = `${REPORT_FILES_DIR}/${String(i).padStart(2, "0")}_${scene.name.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
    const scale = displayScale(scene.w);
    const depthRange = finiteRange(scene.frames.flatMap((f) => (f.depth ? [f.depth] : [])));
    const rows: string[] = [];
    for (const row of ROWS) {
      if (!scene.frames.some((f) => f[row.key])) continue;
      const cells: string[] = [];
      for (const [t, frame] of scene.frames.entries()) {
        const bytes = await encodeCell(frame, row.key, scene.h, scene.w, depthRange);
        if (!bytes) {
          cells.push(`<td class="none">—</td>`);
          continue;
        }
        const path = `${folder}/${row.key}_${String(t).padStart(3, "0")}.png`;
        images.set(path, bytes);
        const alt = `${escapeHtml(scene.name)} ${row.label} ${frame.name}`;
        cells.push(`<td><img src="${path}" width="${scene.w * scale}" height="${scene.h * scale}" alt="${alt}"></td>`);
      }
      const note = row.key === "depth" && depthRange ? `<br><span class="note">${depthRange[0].toFixed(2)}–${depthRange[1].toFixed(2)} units: near red, far blue (1/depth), sky black</span>` : "";
      rows.push(`<tr><th>${row.label}${note}</th>${cells.join("")}</tr>`);
    }
    const head = `<tr><th></th>${scene.frames.map((f) => `<th class="frame">${escapeHtml(f.name)}</th>`).join("")}</tr>`;
    sections.push(
      [
        `<section>`,
        `<h2>${escapeHtml(scene.name)}</h2>`,
        `<p class="caption">${escapeHtml(describeScene(scene, caption))}</p>`,
        `<div class="scene"><table>${head}${rows.join("")}</table>`,
        `<figure>${cameraPathSvg(scene.frames)}<figcaption>camera path, top view (x right, z up)</figcaption></figure></div>`,
        `</section>`,
      ].join("\n"),
    );
  }
  const html = [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(opts.title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>${escapeHtml(opts.title)}</h1>`,
    opts.verdict ? `<p class="verdict">${escapeHtml(opts.verdict)}</p>` : "",
    opts.intro ? `<p>${escapeHtml(opts.intro)}</p>` : "",
    ...sections,
    "</body></html>",
    "",
  ].join("\n");
  return { html, images };
}

/** Writes the images, then `name` (default `report.html`), into `dir`; returns the page's path. */
export function writeReport(dir: string, files: ReportFiles, name = "report.html"): string {
  for (const [rel, bytes] of files.images) writeFileAtomic(join(dir, rel), bytes);
  const page = join(dir, name);
  writeFileAtomic(page, files.html);
  return page;
}

/**
 * The camera centres seen from above as an SVG: dots (coloured from blue, first, to red, last) joined in order by a
 * path, and a tick along each camera's viewing direction. Uses the x–z plane of the world (y is down in OpenCV
 * worlds, so looking down from −y, x points right and z points up on the page). Frames without cameras are skipped.
 */
export function cameraPathSvg(frames: readonly Frame[], size = 240, overlay?: readonly (readonly number[])[]): string {
  const cams = frames.flatMap((f) => (f.camera ? [f.camera.c2w] : []));
  const open = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" class="path">`;
  const frame = `<rect x="0.5" y="0.5" width="${size - 1}" height="${size - 1}" fill="#fff" stroke="#ccc"/>`;
  if (cams.length === 0) return `${open}${frame}<text x="${size / 2}" y="${size / 2}" text-anchor="middle">no cameras</text></svg>`;
  const all = [...cams, ...(overlay ?? [])];
  const xs = all.map((m) => m[3]!), zs = all.map((m) => m[11]!);
  const [x0, x1, z0, z1] = [Math.min(...xs), Math.max(...xs), Math.min(...zs), Math.max(...zs)];
  const extent = Math.max(x1 - x0, z1 - z0, 1e-9);
  const pad = 28, tick = 14; // pixels
  const s = (size - 2 * pad) / extent; // pixels per scene unit, the same on both axes
  const px = (x: number) => size / 2 + (x - (x0 + x1) / 2) * s;
  const py = (z: number) => size / 2 - (z - (z0 + z1) / 2) * s; // z up on the page
  const fmt = (v: number) => v.toFixed(1);
  const d = cams.map((m, i) => `${i === 0 ? "M" : "L"}${fmt(px(m[3]!))} ${fmt(py(m[11]!))}`).join(" ");
  const marks = cams.map((m, i) => {
    const cx = px(m[3]!), cy = py(m[11]!);
    const colour = turboHex(cams.length === 1 ? 0 : i / (cams.length - 1));
    const hx = m[2]!, hz = m[10]!; // the camera's +z (viewing) axis in the world, projected on x–z
    const hn = Math.hypot(hx, hz);
    const tickLine = hn > 1e-6 ? `<line x1="${fmt(cx)}" y1="${fmt(cy)}" x2="${fmt(cx + (tick * hx) / hn)}" y2="${fmt(cy - (tick * hz) / hn)}" stroke="${colour}" stroke-width="2"/>` : "";
    return `${tickLine}<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="3.5" fill="${colour}"><title>frame ${i}</title></circle>`;
  });
  const scaleBar = `<text x="6" y="${size - 6}" class="axis">width ${extent.toPrecision(2)} units</text>`;
  const second = overlay?.length
    ? `<path d="${overlay.map((m, i) => `${i === 0 ? "M" : "L"}${fmt(px(m[3]!))} ${fmt(py(m[11]!))}`).join(" ")}" fill="none" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"/>` +
      overlay.map((m) => `<rect x="${fmt(px(m[3]!) - 3)}" y="${fmt(py(m[11]!) - 3)}" width="6" height="6" fill="none" stroke="#000"/>`).join("")
    : "";
  return `${open}${frame}<path d="${d}" fill="none" stroke="#888" stroke-width="1.5"/>${marks.join("")}${second}${scaleBar}</svg>`;
}

async function encodeCell(frame: Frame, key: Row["key"], h: number, w: number, range: [number, number] | undefined): Promise<Uint8Array | undefined> {
  switch (key) {
    case "image":
      return encodePng(frame.image, h, w);
    case "static":
      return frame.static && encodePng(frame.static, h, w);
    case "mask":
      return frame.mask && encodeMaskPng(frame.mask, h, w);
    case "depth":
      return frame.depth && encodePng(colourDepth(frame.depth, range ?? [0, 1]), h, w);
  }
}

/** Depth at or past the depth-PNG clip value (65.535) is "no depth" (sky, or clipped on disk). */
const DEPTH_CLIP = 65535 / DEPTH_PNG_SCALE;
const validDepth = (v: number) => Number.isFinite(v) && v < DEPTH_CLIP;

/**
 * Depth [h, w] → planar RGB [3, h, w] through the turbo map of inverse depth (disparity, so a street's far end does
 * not flatten the near objects): `near` is red (turbo 1), `far` blue (turbo 0). Invalid depth (sky) is black.
 */
export function colourDepth(depth: Float32Array, [near, far]: [number, number]): Float32Array {
  const n = depth.length;
  const out = new Float32Array(3 * n);
  const [invNear, invFar] = [1 / Math.max(near, 1e-6), 1 / Math.max(far, 1e-6)];
  const span = invNear - invFar || 1;
  for (let i = 0; i < n; i++) {
    const v = depth[i]!;
    if (!validDepth(v)) continue;
    const [r, g, b] = turbo((1 / Math.max(v, 1e-6) - invFar) / span);
    out[i] = r;
    out[n + i] = g;
    out[2 * n + i] = b;
  }
  return out;
}

/** Google's turbo colour map (polynomial fit by A. Mikhailov, 2019), t in [0, 1] → RGB in [0, 1]. */
export function turbo(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const p = [1, x, x * x, x ** 3, x ** 4, x ** 5];
  const dot = (c: number[]) => Math.min(1, Math.max(0, c.reduce((s, ci, k) => s + ci * p[k]!, 0)));
  return [
    dot([0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943]),
    dot([0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604]),
    dot([0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973]),
  ];
}

function turboHex(t: number): string {
  return `#${turbo(t).map((c) => Math.round(c * 255).toString(16).padStart(2, "0")).join("")}`;
}

/** Range of the valid depths (finite, below the PNG clip value), or undefined if there are none. */
function finiteRange(depths: readonly Float32Array[]): [number, number] | undefined {
  let lo = Infinity, hi = -Infinity;
  for (const d of depths) {
    for (const v of d) {
      if (validDepth(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  return lo <= hi ? [lo, hi] : undefined;
}

function describeScene(scene: Scene, caption: string | undefined): string {
  const parts = [`${scene.w}×${scene.h}`, `${scene.frames.length} frames`];
  const masks = scene.frames.flatMap((f) => (f.mask ? [f.mask] : []));
  if (masks.length) {
    const moving = masks.reduce((s, m) => s + m.reduce((a, v) => a + (v ? 1 : 0), 0), 0);
    parts.push(`moving pixels ${((100 * moving) / (masks.length * scene.h * scene.w)).toFixed(1)} %`);
  }
  return [caption, parts.join(", ")].filter(Boolean).join(" · ");
}

/** 2× for 64², 3× for 32² and smaller, 1× from 128² up: small images stay readable. */
function displayScale(w: number): number {
  return w <= 32 ? 3 : w < 128 ? 2 : 1;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const CSS = [
  "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}",
  "h2{margin:28px 0 4px}",
  ".verdict{font-size:16px;font-weight:600;background:#eef4ff;border-left:4px solid #36c;padding:8px 12px}",
  ".caption,.note{color:#666}.note{font-size:11px;font-weight:normal}",
  ".scene{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}",
  "table{border-collapse:collapse}td{padding:1px}th{text-align:right;padding-right:8px;font-weight:600;white-space:nowrap}",
  "th.frame{text-align:center;font-weight:normal;color:#888;font-size:11px;padding:0}",
  "td.none{text-align:center;color:#aaa}",
  "img{image-rendering:pixelated;display:block;background:#000}",
  "figure{margin:0}figcaption{color:#666;font-size:12px}",
  "svg.path .axis{font-size:10px;fill:#666}",
].join("\n");
