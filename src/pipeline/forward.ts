/**
 * The model's jitted forward pass for inference, written once: host images in, host renders and cameras out.
 * `estimate` runs the camera estimator and renders views k … v−1 from the cameras it predicts; `withCameras`
 * renders them from given cameras (identity or ground-truth diagnostics, novel-view paths). Shapes are static
 * per call signature, so each distinct batch shape compiles once. Parameters are never consumed.
 */
import { jit, numpy as np, type Array as JArray } from "@jax-js/jax";
import { ref } from "../engine/params.ts";
import type { ModelConfig } from "../model/config.ts";
import { runRayZer, type RayZerParams } from "../model/rayzer.ts";

export type Shape5 = [number, number, number, number, number];

export type ForwardResult = {
  /** [b, v − k, 3, h, w] renders of the targets, in [0, 1]. */
  renders: Float32Array;
  /** [b, v, 4, 4] predicted camera-to-world, relative to view 0. */
  c2w: Float32Array;
  /** [b, v, 4] predicted normalised intrinsics. */
  fxfycxcy: Float32Array;
};

export type Forward = {
  estimate(params: RayZerParams, images: Float32Array, shape: Shape5): Promise<ForwardResult>;
  withCameras(params: RayZerParams, images: Float32Array, shape: Shape5, c2w: Float32Array, fxfycxcy: Float32Array): Promise<Float32Array>;
  /** Renders from identity cameras with the model's default focal (the "are the cameras used?" diagnostic). */
  identity(params: RayZerParams, images: Float32Array, shape: Shape5): Promise<Float32Array>;
  dispose(): void;
};

export function makeForward(model: ModelConfig): Forward {
  const est = jit((p: RayZerParams, x: JArray) => {
    const out = runRayZer(p, x, model);
    return [out.renders, out.cameras.c2w, out.cameras.fxfycxcy];
  });
  const given = jit((p: RayZerParams, x: JArray, c2w: JArray, k4: JArray) => runRayZer(p, x, model, { cameras: { c2w, fxfycxcy: k4 } }).renders);
  const arr = (x: Float32Array, shape: number[]) => np.array(x).reshape(shape);
  const withCameras = async (params: RayZerParams, images: Float32Array, shape: Shape5, c2w: Float32Array, fxfycxcy: Float32Array) => {
    const [b, v] = shape;
    const out = given(ref(params), arr(images, shape), arr(c2w, [b, v, 4, 4]), arr(fxfycxcy, [b, v, 4])) as JArray;
    return (await out.data()) as Float32Array;
  };
  return {
    async estimate(params, images, shape) {
      const [renders, c2w, k4] = est(ref(params), arr(images, shape)) as JArray[];
      return { renders: (await renders!.data()) as Float32Array, c2w: (await c2w!.data()) as Float32Array, fxfycxcy: (await k4!.data()) as Float32Array };
    },
    withCameras,
    identity(params, images, shape) {
      const [b, v] = shape;
      const f = model.focalInit;
      const eye = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
      const c2w = Float32Array.from({ length: b * v * 16 }, (_, i) => eye[i % 16]!);
      const k4 = Float32Array.from({ length: b * v * 4 }, (_, i) => [f, f, 0.5, 0.5][i % 4]!);
      return withCameras(params, images, shape, c2w, k4);
    },
    dispose() {
      est.dispose();
      given.dispose();
    },
  };
}
