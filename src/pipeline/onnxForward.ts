/**
 * The RayZer forward on ONNX Runtime (`onnxruntime-node`, native, multi-threaded): the graph of
 * src/model/onnxExport.ts, one session per input shape, cached. Same inputs and outputs as the jax-js forward
 * (`runRayZer`), as host float32 arrays. onnxruntime-node is loaded on first use, so nothing else pays for it.
 * See docs/ENGINE.md ("ONNX Runtime inference").
 */
import type { InferenceSession, Tensor } from "onnxruntime-node";
import { WildrayzerError } from "../engine/errors.ts";
import type { ParamTree } from "../engine/params.ts";
import type { ModelConfig } from "../model/config.ts";
import { exportRayZerOnnx, hostParams, type HostParams, type OnnxExportOptions } from "../model/onnxExport.ts";

/** The inference runtimes the CLIs offer (`--runtime`). */
export const RUNTIMES = ["jax", "onnx"] as const;
export type Runtime = (typeof RUNTIMES)[number];

export type OnnxOutputs = {
  /** [b, r, 3, h, w] in [0, 1]. */
  renders: Float32Array;
  /** [b, v, 4, 4]. */
  c2w: Float32Array;
  /** [b, v, 4], normalised. */
  fxfycxcy: Float32Array;
  rendersShape: number[];
};

type Ort = typeof import("onnxruntime-node");
let ortModule: Ort | null = null;

async function loadOrt(): Promise<Ort> {
  if (!ortModule) {
    try {
      ortModule = await import("onnxruntime-node");
    } catch (e) {
      throw new WildrayzerError(`--runtime onnx: onnxruntime-node could not be loaded (${(e as Error).message.split("\n")[0]}); use --runtime jax`);
    }
  }
  return ortModule;
}

/** Threads for ONNX Runtime: WRZ_THREADS if set (the CLI's --threads), else ONNX Runtime's own default (the cores). */
function intraOpThreads(): number | undefined {
  const t = Number(process.env.WRZ_THREADS);
  return Number.isInteger(t) && t > 0 ? t : undefined;
}

/** A model on ONNX Runtime: host parameters and one session per (batch, views, render, cameras, keep). */
export class OnnxRayZer {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();

  private constructor(
    private readonly params: HostParams,
    readonly cfg: ModelConfig,
  ) {}

  /** Copies the parameter tree to the host (the tree is not consumed). */
  static async create(params: ParamTree, cfg: ModelConfig): Promise<OnnxRayZer> {
    await loadOrt();
    // the static forward does not read the motion estimator: leave it on the device
    const { motion: _motion, ...core } = params as { readonly [key: string]: ParamTree };
    return new OnnxRayZer(await hostParams(core), cfg);
  }

  /** From parameters already on the host (dotted names, as `hostParams` gives them). */
  static async fromHost(params: HostParams, cfg: ModelConfig): Promise<OnnxRayZer> {
    await loadOrt();
    return new OnnxRayZer(params, cfg);
  }

  private session(opts: OnnxExportOptions): Promise<InferenceSession> {
    const key = JSON.stringify([opts.batch, opts.views, opts.render ?? null, !!opts.cameras, !!opts.keep]);
    let s = this.sessions.get(key);
    if (!s) {
      const bytes = exportRayZerOnnx(this.params, this.cfg, opts);
      const threads = intraOpThreads();
      s = loadOrt().then((ort) =>
        ort.InferenceSession.create(bytes, {
          graphOptimizationLevel: "all",
          executionMode: "sequential",
          ...(threads ? { intraOpNumThreads: threads } : {}),
          // idle pool threads sleep instead of spinning (on a shared CPU spinning threads steal the cores;
          // measured: median 228 vs 401 ms for the small forward while other processes ran)
          extra: { session: { intra_op: { allow_spinning: "0" } } },
        }),
      );
      this.sessions.set(key, s);
    }
    return s;
  }

  /**
   * Runs the forward on `images` [b, v, 3, h, w] (host float32). `render` lists the views to render (default the
   * targets); `cameras` replaces the estimator; `keep` [b, k, n] is the scene encoder's token keep-mask.
   */
  async run(
    images: Float32Array,
    shape: readonly number[],
    opts: { render?: readonly number[]; cameras?: { c2w: Float32Array; fxfycxcy: Float32Array }; keep?: Float32Array } = {},
  ): Promise<OnnxOutputs> {
    const [b, v] = shape as [number, number];
    const ort = await loadOrt();
    const session = await this.session({ batch: b, views: v, ...(opts.render ? { render: opts.render } : {}), cameras: !!opts.cameras, keep: !!opts.keep });
    const feeds: Record<string, Tensor> = { images: new ort.Tensor("float32", images, [...shape]) };
    if (opts.cameras) {
      feeds.c2w_in = new ort.Tensor("float32", opts.cameras.c2w, [b, v, 4, 4]);
      feeds.fxfycxcy_in = new ort.Tensor("float32", opts.cameras.fxfycxcy, [b, v, 4]);
    }
    if (opts.keep) feeds.keep = new ort.Tensor("float32", opts.keep, [b, this.cfg.inputViews, opts.keep.length / (b * this.cfg.inputViews)]);
    const out = await session.run(feeds);
    const get = (name: string) => out[name]!.data as Float32Array;
    return { renders: get("renders"), c2w: get("c2w"), fxfycxcy: get("fxfycxcy"), rendersShape: [...out.renders!.dims] };
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}

type Shape5 = [number, number, number, number, number];

/**
 * The inference forward (host images in, host renders and cameras out) on ONNX Runtime, in the shape of the
 * jitted jax-js forward: `estimate` predicts the cameras and renders views k … v−1, `withCameras` renders them from
 * given cameras (both with an optional token keep-mask, zeroed tokens only; src/pipeline/forward.ts adds
 * `identity`, as for every forward). Parameters are never consumed;
 * each parameter tree is copied to the host once (on its first use) and its sessions are kept until `dispose`.
 */
export function makeOnnxForward(model: ModelConfig) {
  const models = new Map<ParamTree, Promise<OnnxRayZer>>();
  const of = (params: ParamTree): Promise<OnnxRayZer> => {
    let m = models.get(params);
    if (!m) {
      m = OnnxRayZer.create(params, model);
      models.set(params, m);
    }
    return m;
  };
  // the exported graph multiplies dynamic tokens by 0; a learned noise token is not in it
  const checkKeep = (keep: Float32Array | undefined) => {
    if (keep && model.maskedTokens !== "zero") throw new Error("ONNX forward: masked tokens are exported as zeros only; use the jax runtime for a model with a noise token");
  };
  const withCameras = async (params: ParamTree, images: Float32Array, shape: Shape5, c2w: Float32Array, fxfycxcy: Float32Array, opts: { keep?: Float32Array } = {}): Promise<Float32Array> => {
    checkKeep(opts.keep);
    return (await (await of(params)).run(images, shape, { cameras: { c2w, fxfycxcy }, ...(opts.keep ? { keep: opts.keep } : {}) })).renders;
  };
  return {
    async estimate(params: ParamTree, images: Float32Array, shape: Shape5, opts: { keep?: Float32Array } = {}): Promise<{ renders: Float32Array; c2w: Float32Array; fxfycxcy: Float32Array }> {
      checkKeep(opts.keep);
      const out = await (await of(params)).run(images, shape, opts.keep ? { keep: opts.keep } : {});
      return { renders: out.renders, c2w: out.c2w, fxfycxcy: out.fxfycxcy };
    },
    withCameras,
    dispose(): void {
      for (const m of models.values()) void m.then((x) => x.dispose());
      models.clear();
    },
  };
}
