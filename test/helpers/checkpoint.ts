/** Test fixtures: an untrained RayZer checkpoint written to disk, for CLI tests that need a model file. */
import { random } from "@jax-js/jax";
import { initAdamW } from "../../src/engine/optim.ts";
import { dispose } from "../../src/engine/params.ts";
import { initRayZer } from "../../src/model/rayzer.ts";
import { saveCheckpoint } from "../../src/train/checkpoint.ts";
import type { RunConfig } from "../../src/train/config.ts";

/** Writes a freshly initialised model of `run` (weights from `key`) and its optimiser state to `path` as step `step`. */
export async function saveUntrainedCheckpoint(path: string, run: RunConfig, key: number, step: number, stage: 1 | 2 | 3 = 1): Promise<void> {
  const params = initRayZer(random.key(key), run.model);
  const state = { params, opt: initAdamW(params) };
  await saveCheckpoint(path, state, { run, step, stage });
  dispose(state);
}
