import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readScene } from "../../src/data/sceneIo.ts";
import { runCli } from "../helpers/cli.ts";

const root = mkdtempSync(join(tmpdir(), "wrz-demo-"));
after(() => rmSync(root, { recursive: true, force: true }));

describe("wildrayzer demo", () => {
  it("passes the engine check, writes three scenes and a report whose images all exist", async () => {
    const out = join(root, "full");
    const r = await runCli(["demo", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /camera estimator/);
    assert.match(r.stdout, /^engine check: ok \(jit matmul \d+ ms, block gradient [\d.]+ m?s; total/m);
    assert.match(r.stdout, new RegExp(`^report: ${join(out, "report.html")}\\n$`, "m"));
    // stderr is a pipe here: no bars, only one summary line per stage.
    assert.match(r.stderr, /^engine check: 2\/2 checks passed \([\d.]+ m?s\)\ndemo scenes: 3 scenes written to [^\n]+ \([\d.]+ m?s\)\n$/);

    for (const i of [0, 1, 2]) {
      const { scene, meta } = await readScene(join(out, "scenes", `scene_0000${i}`));
      assert.deepEqual([scene.h, scene.w, scene.frames.length], [64, 64, 8]);
      assert.equal(meta.generator?.config.path, ["walk", "orbit", "pan"][i]);
    }
    const html = readFileSync(join(out, "report.html"), "utf8");
    const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(srcs.length, 3 * 8 * 4, "3 scenes × 8 frames × (observed, static, mask, depth)");
    for (const src of srcs) assert.ok(existsSync(join(out, src)), `${src} exists`);
    assert.equal((html.match(/<svg /g) ?? []).length, 3, "a camera path per scene");
  });

  it("--quiet prints only the results", async () => {
    const out = join(root, "quiet");
    const r = await runCli(["--quiet", "demo", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^engine check: ok [^\\n]*\\nreport: ${join(out, "report.html")}\\n$`));
    assert.equal(r.stderr, "");
  });
});
