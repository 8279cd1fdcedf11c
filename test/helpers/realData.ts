/**
 * Where the sample real footage lives (`../shared/data/real` beside the repository; tests and examples only, never
 * copied into the package). `WRZ_REAL_DATA` overrides. Tests that need it skip, saying why, when it is absent.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { repoRoot } from "./cli.ts";

export const REAL = `${resolve(process.env.WRZ_REAL_DATA ?? join(repoRoot, "..", "shared", "data", "real"))}/`;
export const hasReal = existsSync(join(REAL, "tennis")) && existsSync(join(REAL, "fern")) && existsSync(join(REAL, "lady-running"));
/** `it(..., { skip: noReal }, ...)`: false when the footage is there, else the reason. */
export const noReal: string | false = hasReal ? false : `sample footage not found at ${REAL} (set WRZ_REAL_DATA)`;
