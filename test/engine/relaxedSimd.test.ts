import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { repoRoot } from "../helpers/cli.ts";

/** Loss and gradients of the tiny model on a fixed batch, computed in a fresh process with the given settings. */
function dump(env: Record<string, string>): { relaxedSimd: boolean; grads: Record<string, number[]> } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/helpers/gradDump.ts"], {
    cwd: repoRoot,
    env: { ...process.env, WRZ_THREADS: "1", ...env },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { relaxedSimd: boolean; grads: Record<string, number[]> };
}

describe("relaxed SIMD (fused multiply-add in jax-js kernels)", () => {
  it("is on by default and changes the loss and every gradient by at most 1e-5 relative", () => {
    const on = dump({});
    const off = dump({ WRZ_NO_RELAXED_SIMD: "1" });
    assert.equal(on.relaxedSimd, true, "the adapter turned relaxed SIMD on");
    assert.equal(off.relaxedSimd, false, "WRZ_NO_RELAXED_SIMD=1 leaves it off");
    let worst = 0;
    let differs = false;
    for (const [name, a] of Object.entries(off.grads)) {
      const b = on.grads[name]!;
      const scale = Math.max(...a.map(Math.abs), 1e-12);
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
        if (a[i] !== b[i]) differs = true;
      }
    }
    assert.ok(worst <= 1e-5, `largest difference relative to each tensor's scale: ${worst}`);
    assert.ok(differs, "the two settings really ran different kernels (some value differs in rounding)");
  });
});
