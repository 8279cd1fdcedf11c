/**
 * `--token-masks motion|none` of the rendering commands (`render`, `run`): whether the input views' dynamic tokens
 * are replaced before the scene encoder, from the motion estimator's masks. Default: the stage rule
 * (src/pipeline/maskedInputs.ts): a stage-3 model file with a motion estimator masks, any other does not.
 */
import { Option } from "commander";
import { TOKEN_MASK_MODES } from "../pipeline/maskedInputs.ts";

/** The option; `scope` says where it applies (e.g. `run`: with `--renderer model` only). */
export function tokenMasksOption(scope = ""): Option {
  return new Option(
    "--token-masks <mode>",
    `${scope}replace the input views' dynamic tokens before the scene encoder: motion (from the model's motion estimator, as a stage-3 WildRayZer was trained) or none; default: motion for a stage-3 model file with a motion estimator, none for stage 1/2 (their renderer never saw masked tokens)`,
  ).choices(TOKEN_MASK_MODES);
}
