/** The options every command sees (set on the top-level program, read by each command through `globals()`). */
import type { DeviceKind } from "../engine/backend.ts";

export type GlobalOptions = {
  /** Worker threads; already applied by bin/wildrayzer.js through WRZ_THREADS, validated here. */
  threads?: number;
  device: DeviceKind;
  quiet: boolean;
  verbose: boolean;
};
