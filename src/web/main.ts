/**
 * The viewer page: frames (dropped images or video, or a built-in synthetic scene) + a model (a shipped one, or a
 * dropped model file) → estimated cameras in a 3-D view, the motion estimator's masks over every frame (a model
 * without an estimator: its rendering residual, labelled so), and novel views along a path (through the cameras, an
 * orbit, or one dragged on the pad). Inference runs on jax-js in a Web Worker (src/web/worker.ts): WebGPU where the
 * browser has it, else wasm (multi-threaded when the page is cross-origin isolated, as `wildrayzer view` serves
 * it). URL options: `?scene=synth:SEED`, `&device=wasm|webgpu`, `&run=1`, `&path=interpolate|orbit`, `&frames=N`,
 * `&model=small` (the shipped stage-1 model; default wildrayzer-small). `window.wrzViewer` exposes the state for tests.
 */
import type { DeviceKind } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import type { Camera } from "../geometry/cameras.ts";
import { mat4Mul, mat4Translation, norm3, rigidInverse } from "../geometry/mat4.ts";
import type { Scene } from "../data/scene.ts";
import type { ModelFileMeta } from "../model/load.ts";
import { interpolatePath, orbitPath } from "../pipeline/novelViews.ts";
import { builtInScene, maskRgba, overlayLabel, residualRamp, residualRgba, type Analysis } from "./analysis.ts";
import { connect } from "./protocol.ts";
import { framesFromFiles, planarToRgba } from "./frames.ts";
import { dragPath, type PadPoint } from "./path.ts";
import { createView3d, type View3d } from "./view3d.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

type State = {
  phase: "starting" | "ready" | "running" | "done" | "error";
  device?: DeviceKind;
  threads?: number;
  model?: { name: string; meta: ModelFileMeta };
  clip?: Scene & { synthSeed?: number };
  analysis?: Analysis;
  path?: { kind: string; cameras: Camera[]; images: Float32Array[]; ms: number };
  timings: Record<string, number>;
  error?: string;
};
const state: State = { phase: "starting", timings: {} };
(globalThis as Record<string, unknown>).wrzViewer = state;

let view3d: View3d | null = null;
let playTimer: ReturnType<typeof setInterval> | null = null;

function setStatus(text: string, error = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", error);
}
function setProgress(frac: number) {
  $("bar").style.width = `${Math.round(Math.max(0, Math.min(1, frac)) * 100)}%`;
}
function fail(err: unknown) {
  const msg = err instanceof WildrayzerError ? err.message : `internal error: ${(err as Error).message ?? String(err)}`;
  state.phase = "error";
  state.error = msg;
  setStatus(msg, true);
  if (!(err instanceof WildrayzerError)) console.error(err);
}
const ms = (t: number) => (t < 1000 ? `${Math.round(t)} ms` : `${(t / 1000).toFixed(1)} s`);
/** Lets the page paint between steps (the engine's own workers do the heavy lifting). */
const breathe = () => new Promise<void>((r) => setTimeout(r, 0));

function badge() {
  const el = $("badge");
  const t = state.timings;
  const parts = [state.device === "webgpu" ? "WebGPU" : `wasm · ${state.threads} thread${state.threads === 1 ? "" : "s"}`];
  if (t.analyse !== undefined) parts.push(`cameras + ${state.analysis?.motion ? "masks" : "residuals"} ${ms(t.analyse)}`);
  const tm = state.analysis?.tokenMasks;
  if (tm) parts.push(`${(100 * tm.estimate).toFixed(0)} % of input tokens masked`);
  if (t.path !== undefined) parts.push(`path ${ms(t.path)}`);
  el.textContent = parts.join(" · ");
  el.className = `badge ${state.device ?? ""}`;
}

/** The engine, the model and its forward run in a worker (src/web/worker.ts); the page only draws. */
const inference = connect(new Worker(new URL("./worker.ts", import.meta.url), { type: "module" }));

async function startDevice(): Promise<void> {
  const { device, threads } = await inference.start(params.get("device"));
  state.device = device;
  state.threads = threads;
}

async function useModel(bytes: Uint8Array, name: string) {
  const meta = await inference.loadModel(bytes, name);
  const m = meta.model;
  state.model = { name, meta };
  state.analysis = undefined;
  const motion = m.motion !== undefined;
  $("modelInfo").textContent = `${name}: stage ${meta.stage}, step ${meta.step}, ${m.imageSize}² working size, ${m.views} views (${m.inputViews} inputs), d ${m.d}${motion ? ", motion estimator" : ", no motion estimator"}${motion && meta.stage === 3 ? "; renders from masked input tokens (stage 3)" : ""}`;
  describeOverlay(name, motion);
  if (state.clip && state.clip.h !== m.imageSize) state.clip = undefined; // frames were cut for another size
  showFrames();
  refreshRunButton();
}

/** The overlay's label and note for the loaded model: motion masks when it has an estimator, else the residual. */
function describeOverlay(name: string, motion: boolean) {
  $("overlayLabel").textContent = overlayLabel(name, motion);
  $("overlayNote").innerHTML = motion
    ? "Overlay: the <b>motion masks</b> of the model's motion estimator (red: moving, probability above ½), the same pipeline as " +
      "<code>wildrayzer masks --estimator</code>: one feed-forward pass per window over the frames' image tokens, camera " +
      "(Plücker) tokens and MobileNetV2 features. Second row: the model's static rendering of each frame; outlined: the " +
      "frames whose cameras are estimated."
    : "Overlay: the <b>rendering residual</b> |frame − static rendering| (mean over RGB), clear at this clip's median " +
      "residual, opaque red at its 98th percentile. These are <b>not motion masks</b>: this model has no motion estimator " +
      "(choose wildrayzer-small, or a stage-2 model file, for masks). Second row: the model's static rendering of each " +
      "frame; outlined: the frames whose cameras are estimated.";
}

/** The shipped models, by file name under the page's `models/` folder. */
const SHIPPED = ["wildrayzer-small.safetensors", "small.safetensors"];

async function loadShippedModel(file: string) {
  const url = new URL(`./models/${file}`, document.baseURI);
  const res = await fetch(url);
  if (!res.ok) throw new WildrayzerError(`${url.pathname}: could not fetch the shipped model (HTTP ${res.status}); drop a model file instead`);
  await useModel(new Uint8Array(await res.arrayBuffer()), `models/${file}`);
}

function useSynth(seed: number) {
  const clip = builtInScene(seed, state.model!.meta);
  state.clip = { ...clip, name: `built-in scene (seed ${seed})`, synthSeed: seed };
  showFrames();
  setStatus(`${state.clip.name}: ${clip.frames.length} frames at ${clip.w}²; press run`);
  refreshRunButton();
}

async function useFiles(files: File[]) {
  if (!state.model) throw new WildrayzerError("load a model first");
  const size = state.model.meta.model.imageSize;
  const max = Math.max(state.model.meta.model.views, Number(($("maxFrames") as HTMLInputElement).value) || 24);
  setStatus("decoding frames…");
  state.clip = await framesFromFiles(files, size, max, (d, t) => setProgress(d / t));
  if (state.clip.frames.length < state.model.meta.model.views) {
    throw new WildrayzerError(`${state.clip.frames.length} frames: the model needs at least ${state.model.meta.model.views}`);
  }
  state.analysis = undefined;
  showFrames();
  setStatus(`${state.clip.name} at ${size}²; press run`);
  refreshRunButton();
}

function refreshRunButton() {
  ($("run") as HTMLButtonElement).disabled = !(state.model && state.clip) || state.phase === "running";
}

function putImage(canvas: HTMLCanvasElement, img: Float32Array, h: number, w: number) {
  canvas.width = w;
  canvas.height = h;
  canvas.getContext("2d")!.putImageData(new ImageData(planarToRgba(img, h, w), w, h), 0, 0);
}

function showFrames() {
  const box = $("frames");
  box.replaceChildren();
  const clip = state.clip;
  if (!clip) return;
  const { h, w } = clip;
  const used = new Set(state.analysis?.estimate.used ?? []);
  const motion = state.analysis?.motion;
  const ramp = residualRamp(state.analysis?.residuals ?? []);
  clip.frames.forEach((f, i) => {
    const tile = document.createElement("div");
    tile.className = `tile${used.has(i) ? " used" : ""}`;
    const c = document.createElement("canvas");
    putImage(c, f.image, h, w);
    tile.append(c);
    const res = state.analysis?.residuals[i];
    const mask = motion?.masks[i];
    if (mask || res) {
      const o = document.createElement("canvas");
      o.className = `overlay ${mask ? "mask" : "residual"}`;
      o.width = w;
      o.height = h;
      o.getContext("2d")!.putImageData(new ImageData(mask ? maskRgba(mask, h, w) : residualRgba(res!, h, w, ramp), w, h), 0, 0);
      o.hidden = !($("overlay") as HTMLInputElement).checked;
      tile.append(o);
    }
    const r = state.analysis?.renders[i];
    if (r) {
      const s = document.createElement("canvas");
      s.className = "static";
      putImage(s, r, h, w);
      tile.append(s);
    }
    const label = document.createElement("div");
    label.textContent = f.name + (state.analysis?.estimate.inputs.includes(i) ? " · input" : "");
    tile.append(label);
    box.append(tile);
  });
}

async function run() {
  const model = state.model;
  const clip = state.clip;
  if (!model || !clip) return;
  state.phase = "running";
  refreshRunButton();
  try {
    const masks = model.meta.model.motion !== undefined;
    const what = masks ? "cameras, static renderings and motion masks" : "cameras and static renderings";
    setStatus(`estimating ${what} (the first run compiles the model)…`);
    setProgress(0);
    await breathe();
    const t0 = performance.now();
    state.analysis = await inference.analyse(clip, (d, t) => (setProgress(d / t), setStatus(`${what}: step ${d} of ${t}`)));
    state.timings.analyse = performance.now() - t0;
    badge();
    showFrames();
    ($("pathInterp") as HTMLButtonElement).disabled = false;
    ($("pathOrbit") as HTMLButtonElement).disabled = false;
    padExtent = Math.max(1.5, 1.15 * Math.max(...padCameras(state.analysis).flatMap((p) => p.map(Math.abs))));
    drawPad([]);
    const kind = params.get("path") === "orbit" ? "orbit" : "interpolate";
    await renderPath(kind);
    state.phase = "done";
  } catch (err) {
    fail(err);
  } finally {
    if (state.phase === "running") state.phase = "ready";
    refreshRunButton();
  }
}

function pathFrames(): number {
  const n = Number(params.get("frames") ?? ($("pathFrames") as HTMLInputElement).value);
  return Number.isInteger(n) && n >= 2 && n <= 120 ? n : 12;
}

async function renderPath(kind: "interpolate" | "orbit" | "drawn", stroke: PadPoint[] = []) {
  const a = state.analysis;
  const model = state.model;
  if (!a || !model) return;
  const n = pathFrames();
  const est = a.estimate;
  const cameras =
    kind === "interpolate" ? interpolatePath(est.cameras, n) : kind === "orbit" ? orbitPath(est.estimated[0]!, est.estimated[1]!, n) : dragPath(est.estimated[0]!, est.estimated[1]!, stroke, n);
  showCameras(cameras, 0);
  $("pathStatus").textContent = `rendering ${n} novel views…`;
  setProgress(0);
  await breathe();
  const t0 = performance.now();
  const images = await inference.renderPath(cameras, (d, t) => (setProgress(d / t), ($("pathStatus").textContent = `rendering novel views: ${d} of ${t}`)));
  const took = performance.now() - t0;
  state.timings.path = took;
  state.path = { kind, cameras, images, ms: took };
  badge();
  $("pathStatus").textContent = `${images.length} novel views (${kind === "drawn" ? "dragged path" : kind}) in ${ms(took)}`;
  setStatus(`done: ${state.clip!.name}`);
  const scrub = $("scrub") as HTMLInputElement;
  scrub.max = String(images.length - 1);
  scrub.value = "0";
  showNovel(0);
  startPlay();
}

function showCameras(path: Camera[], current: number) {
  const a = state.analysis!;
  const clip = state.clip!;
  view3d ??= createView3d($("view3d"));
  view3d.show({ cameras: a.estimate.cameras, roles: a.estimate.used.map((f) => (a.estimate.inputs.includes(f) ? "input" : "target")), path, current, h: clip.h, w: clip.w });
}

function showNovel(i: number) {
  const p = state.path;
  if (!p || !p.images[i]) return;
  putImage($("novel") as HTMLCanvasElement, p.images[i], state.clip!.h, state.clip!.w);
  view3d?.setCurrent(i);
}

function startPlay() {
  if (playTimer) clearInterval(playTimer);
  playTimer = null;
  if (!($("play") as HTMLInputElement).checked || params.get("run") === "1") return; // tests read a still page
  const scrub = $("scrub") as HTMLInputElement;
  playTimer = setInterval(() => {
    const n = state.path?.images.length ?? 0;
    if (n === 0) return;
    const i = (Number(scrub.value) + 1) % n;
    scrub.value = String(i);
    showNovel(i);
  }, 125);
}

// ---- the pad: the user drags a path of offsets around the first input camera ----
/** Half the pad's side in pad units (1 = the orbit radius): it fits the estimated cameras. */
let padExtent = 2;
function padToCanvas(p: PadPoint, size: number): [number, number] {
  return [((p[0] / padExtent) * 0.5 + 0.5) * size, ((p[1] / padExtent) * 0.5 + 0.5) * size];
}
function canvasToPad(x: number, y: number, size: number): PadPoint {
  return [((x / size - 0.5) / 0.5) * padExtent, ((y / size - 0.5) / 0.5) * padExtent];
}
/** The estimated cameras' centres in pad units: offsets in the first input camera's x–y plane / the orbit radius. */
function padCameras(a: Analysis): PadPoint[] {
  const e = a.estimate.estimated;
  const baseline = norm3(mat4Translation(mat4Mul(rigidInverse(e[0]!.c2w), e[1]!.c2w)));
  const radius = Math.max(0.02, baseline / 4);
  return a.estimate.cameras.map((c) => {
    const t = mat4Translation(mat4Mul(rigidInverse(e[0]!.c2w), c.c2w));
    return [t[0] / radius, t[1] / radius];
  });
}
function drawPad(stroke: PadPoint[]) {
  const c = $("pad") as HTMLCanvasElement;
  const ctx = c.getContext("2d")!;
  const s = c.width;
  ctx.clearRect(0, 0, s, s);
  ctx.strokeStyle = "#2f3540";
  ctx.beginPath();
  ctx.moveTo(s / 2, 0);
  ctx.lineTo(s / 2, s);
  ctx.moveTo(0, s / 2);
  ctx.lineTo(s, s / 2);
  ctx.stroke();
  const [cx, cy] = padToCanvas([0, 0], s);
  const [rx] = padToCanvas([1, 0], s);
  ctx.beginPath();
  ctx.arc(cx, cy, rx - cx, 0, 2 * Math.PI);
  ctx.stroke();
  const a = state.analysis;
  if (a) {
    padCameras(a).forEach((p, i) => {
      const [x, y] = padToCanvas(p, s);
      ctx.fillStyle = a.estimate.inputs.includes(a.estimate.used[i]!) ? "#ff9a3c" : "#4aa8ff";
      ctx.fillRect(x - 3, y - 3, 6, 6);
    });
  }
  if (stroke.length > 1) {
    ctx.strokeStyle = "#3ccf6e";
    ctx.lineWidth = 2;
    ctx.beginPath();
    stroke.forEach((p, i) => {
      const [x, y] = padToCanvas(p, s);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.lineWidth = 1;
  }
}
function setupPad() {
  const c = $("pad") as HTMLCanvasElement;
  let stroke: PadPoint[] | null = null;
  const at = (e: PointerEvent): PadPoint => {
    const r = c.getBoundingClientRect();
    return canvasToPad(((e.clientX - r.left) / r.width) * c.width, ((e.clientY - r.top) / r.height) * c.height, c.width);
  };
  c.addEventListener("pointerdown", (e) => {
    if (!state.analysis || state.phase === "running") return;
    c.setPointerCapture(e.pointerId);
    stroke = [at(e)];
  });
  c.addEventListener("pointermove", (e) => {
    if (!stroke) return;
    stroke.push(at(e));
    drawPad(stroke);
  });
  c.addEventListener("pointerup", () => {
    const s = stroke;
    stroke = null;
    if (!s || s.length < 2) return;
    void guarded(() => renderPath("drawn", s));
  });
}

async function guarded(f: () => Promise<void>) {
  if (state.phase === "running") return;
  const prev = state.phase;
  state.phase = "running";
  refreshRunButton();
  try {
    await f();
    state.phase = prev === "error" ? "done" : prev;
  } catch (err) {
    fail(err);
  } finally {
    if (state.phase === "running") state.phase = "ready";
    refreshRunButton();
  }
}

function setupInputs() {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => (e.preventDefault(), drop.classList.add("over")));
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const files = Array.from(e.dataTransfer?.files ?? []);
    const model = files.find((f) => f.name.endsWith(".safetensors"));
    void guarded(async () => {
      if (model) await useModel(new Uint8Array(await model.arrayBuffer()), model.name);
      const rest = files.filter((f) => f !== model);
      if (rest.length > 0) await useFiles(rest);
    });
  });
  ($("files") as HTMLInputElement).addEventListener("change", (e) => void guarded(() => useFiles(Array.from((e.target as HTMLInputElement).files ?? []))));
  $("synthBtn").addEventListener("click", () => void guarded(async () => useSynth(Number(($("synth") as HTMLSelectElement).value))));
  ($("modelFile") as HTMLInputElement).addEventListener("change", (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    void guarded(async () => {
      await useModel(new Uint8Array(await f.arrayBuffer()), f.name);
      const opt = document.createElement("option");
      opt.textContent = f.name;
      ($("modelPick") as HTMLSelectElement).append(opt);
      ($("modelPick") as HTMLSelectElement).value = f.name;
    });
  });
  $("modelPick").addEventListener("change", (e) => {
    const v = (e.target as HTMLSelectElement).value;
    if (SHIPPED.includes(v)) void guarded(() => loadShippedModel(v));
  });
  $("run").addEventListener("click", () => void run());
  $("pathInterp").addEventListener("click", () => void guarded(() => renderPath("interpolate")));
  $("pathOrbit").addEventListener("click", () => void guarded(() => renderPath("orbit")));
  $("scrub").addEventListener("input", (e) => (($("play") as HTMLInputElement).checked = false, startPlay(), showNovel(Number((e.target as HTMLInputElement).value))));
  $("play").addEventListener("change", startPlay);
  $("overlay").addEventListener("change", (e) => {
    for (const o of Array.from(document.querySelectorAll<HTMLCanvasElement>("canvas.overlay"))) o.hidden = !(e.target as HTMLInputElement).checked;
  });
  setupPad();
}

async function boot() {
  setupInputs();
  try {
    setStatus("starting the array engine…");
    await startDevice();
    badge();
    setStatus("loading the shipped model…");
    const file = SHIPPED.find((f) => f === `${params.get("model")}.safetensors`) ?? SHIPPED[0]!;
    ($("modelPick") as HTMLSelectElement).value = file;
    await loadShippedModel(file);
    state.phase = "ready";
    const scene = params.get("scene");
    if (scene?.startsWith("synth:")) useSynth(Number(scene.slice(6)));
    else setStatus("drop frames or a video, or use a built-in scene");
    refreshRunButton();
    if (params.get("run") === "1" && state.clip) await run();
  } catch (err) {
    fail(err);
  }
}

void boot();
