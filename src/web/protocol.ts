/**
 * Messages between the viewer page and its inference worker (src/web/worker.ts), and the page's side of them: a
 * promise per request, with progress callbacks. A user mistake in the worker (a bad model file, too few frames)
 * comes back as a `WildrayzerError`, anything else as an `Error`.
 */
import { WildrayzerError } from "../engine/errors.ts";
import type { Camera } from "../geometry/cameras.ts";
import type { Scene } from "../data/scene.ts";
import type { ModelFileMeta } from "../model/load.ts";
import type { Analysis } from "./analysis.ts";

export type Request =
  | { id: number; type: "start"; device: string | null }
  | { id: number; type: "model"; bytes: Uint8Array; name: string }
  | { id: number; type: "analyse"; scene: Scene }
  | { id: number; type: "path"; cameras: Camera[] };

export type Reply =
  | { id: number; kind: "progress"; done: number; total: number }
  | { id: number; kind: "ok"; value: unknown }
  | { id: number; kind: "error"; message: string; user: boolean };

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (done: number, total: number) => void };

/** The page's handle on the worker: one method per request. */
export type Inference = {
  start(device: string | null): Promise<{ device: "webgpu" | "wasm"; threads: number }>;
  loadModel(bytes: Uint8Array, name: string): Promise<ModelFileMeta>;
  analyse(scene: Scene, progress?: (done: number, total: number) => void): Promise<Analysis>;
  renderPath(cameras: Camera[], progress?: (done: number, total: number) => void): Promise<Float32Array[]>;
};

export function connect(worker: Worker): Inference {
  let next = 0;
  const pending = new Map<number, Pending>();
  worker.onmessage = (e: MessageEvent<Reply>) => {
    const r = e.data;
    const p = pending.get(r.id);
    if (!p) return;
    if (r.kind === "progress") return p.progress?.(r.done, r.total);
    pending.delete(r.id);
    if (r.kind === "ok") p.resolve(r.value);
    else p.reject(r.user ? new WildrayzerError(r.message) : new Error(r.message));
  };
  worker.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(`inference worker: ${e.message}`));
    pending.clear();
  };
  type Body = Request extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;
  const call = <T>(body: Body, progress?: (done: number, total: number) => void, transfer: Transferable[] = []) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      worker.postMessage({ ...body, id }, transfer);
    });
  return {
    start: (device) => call({ type: "start", device }),
    loadModel: (bytes, name) => call({ type: "model", bytes, name }),
    analyse: (scene, progress) => call({ type: "analyse", scene }, progress),
    renderPath: (cameras, progress) => call({ type: "path", cameras }, progress),
  };
}
