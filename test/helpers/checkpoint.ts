/** Test fixtures: an untrained RayZer checkpoint written to disk, for CLI tests that need a model file. */
import { numpy as np, random } from "@jax-js/jax";
import { initAdamW } from "../../src/engine/optim.ts";
import { dispose, rebuild } from "../../src/engine/params.ts";
import { MOTION_PRESETS } from "../../src/model/motionConfig.ts";
import { initRayZer } from "../../src/model/rayzer.ts";
import { MASK_TAP_CHANNELS } from "../../src/pipeline/maskTap.ts";
import { saveCheckpoint } from "../../src/train/checkpoint.ts";
import { RUN_PRESETS, type RunConfig } from "../../src/train/config.ts";
import { randValues } from "./engine.ts";

/** Writes a freshly initialised model of `run` (weights from `key`) and its optimiser state to `path` as step `step`. */
export async function saveUntrainedCheckpoint(path: string, run: RunConfig, key: number, step: number, stage: 1 | 2 | 3 = 1): Promise<void> {
  const params = initRayZer(random.key(key), run.model);
  const state = { params, opt: initAdamW(params) };
  await saveCheckpoint(path, state, { run, step, stage });
  dispose(state);
}

/**
 * A tiny WildRayZer (the tiny RayZer and a tiny motion estimator on the bundled backbone's mask tap) as a model
 * file of training stage `stage`: weights far from the init (else near-constant renders) and a motion head whose
 * logits vary over the image (its last conv ×30) around −4, so that on the synthetic scenes some input tokens are
 * dropped and others kept. The same weights for every stage.
 */
export async function saveTinyWildrayzer(path: string, stage: 1 | 2 | 3): Promise<void> {
  const base = RUN_PRESETS.tiny;
  const model = { ...base.model, motion: { ...MOTION_PRESETS.tiny, featureChannels: MASK_TAP_CHANNELS, tokenWidth: base.model.d, patch: base.model.patch } };
  const like = initRayZer(random.key(3), model);
  let i = 0;
  const params = rebuild(like, (name, leaf) => {
    const x = leaf.ref.add(np.array(randValues(500 + i++, leaf.shape, -0.25, 0.25)).reshape(leaf.shape));
    if (name === "motion.decoder.head.conv2.weight") return x.mul(30);
    return name === "motion.decoder.head.conv2.bias" ? x.sub(4) : x;
  });
  dispose(like);
  const state = { params, opt: initAdamW(params) };
  await saveCheckpoint(path, state, { run: { ...base, model } as RunConfig, step: 5, stage });
  dispose(state);
}
