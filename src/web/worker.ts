/**
 * The viewer's inference worker: the array engine, the model and its jitted forward live here, off the page's
 * thread, so the page stays responsive while the model compiles and runs (jax-js starts its own wasm threads from
 * here when the page is cross-origin isolated). The frozen backbone the motion estimator reads is fetched from the
 * page's assets the first time a model with an estimator runs (src/web/backbone.ts). Requests and replies are in
 * src/web/protocol.ts.
 */
import { startEngine } from "../engine/backend.ts";
import { WildrayzerError } from "../engine/errors.ts";
import { dispose } from "../engine/params.ts";
import { loadModelBytes } from "../model/load.ts";
import type { RayZerParams } from "../model/rayzer.ts";
import type { FeatureExtractor } from "../features/mobilenetV2.ts";
import type { ClipEstimate } from "../pipeline/novelViews.ts";
import { makeSession, type Session } from "./analysis.ts";
import { loadPageBackbone } from "./backbone.ts";
import type { Reply, Request } from "./protocol.ts";

type Scope = { postMessage(m: Reply, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<Request>) => void) | null };
const scope = globalThis as unknown as Scope;

let model: { params: RayZerParams; session: Session } | null = null;
let estimate: ClipEstimate | null = null;
let backbone: Promise<FeatureExtractor> | null = null;

/** The backbone, loaded once for all models (a failed load is retried on the next clip). */
function getBackbone(): Promise<FeatureExtractor> {
  backbone ??= loadPageBackbone().catch((err: unknown) => {
    backbone = null;
    throw err;
  });
  return backbone;
}

async function startDevice(want: string | null): Promise<{ device: "webgpu" | "wasm"; threads: number }> {
  const nav = navigator as Navigator & { gpu?: unknown };
  if (want !== "wasm" && nav.gpu) {
    try {
      await startEngine({ device: "webgpu" });
      return { device: "webgpu", threads: 1 };
    } catch (err) {
      if (want === "webgpu") throw err;
    }
  }
  const info = await startEngine({ device: "wasm" });
  return { device: "wasm", threads: globalThis.crossOriginIsolated ? info.threads : 1 };
}

async function handle(req: Request): Promise<void> {
  const progress = (done: number, total: number) => scope.postMessage({ id: req.id, kind: "progress", done, total });
  switch (req.type) {
    case "start": {
      scope.postMessage({ id: req.id, kind: "ok", value: await startDevice(req.device) });
      return;
    }
    case "model": {
      const loaded = loadModelBytes(req.bytes, req.name);
      if (model) {
        model.session.dispose();
        dispose(model.params);
      }
      model = { params: loaded.params, session: makeSession(loaded.params, loaded.meta.model, getBackbone, { stage: loaded.meta.stage }) };
      estimate = null;
      scope.postMessage({ id: req.id, kind: "ok", value: loaded.meta });
      return;
    }
    case "analyse": {
      if (!model) throw new WildrayzerError("load a model first");
      const a = await model.session.analyse(req.scene, progress);
      estimate = a.estimate;
      scope.postMessage({ id: req.id, kind: "ok", value: a });
      return;
    }
    case "path": {
      if (!model || !estimate) throw new WildrayzerError("estimate the cameras first");
      const images = await model.session.renderPath(estimate, req.cameras, progress);
      scope.postMessage({ id: req.id, kind: "ok", value: images }, images.map((im) => im.buffer as ArrayBuffer));
      return;
    }
  }
}

scope.onmessage = (e) => {
  const req = e.data;
  handle(req).catch((err: unknown) => {
    const user = err instanceof WildrayzerError;
    scope.postMessage({ id: req.id, kind: "error", message: err instanceof Error ? err.message : String(err), user });
  });
};
