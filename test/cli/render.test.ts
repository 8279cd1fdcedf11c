import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine } from "../helpers/engine.ts";
import { runCli } from "../helpers/cli.ts";
import { saveUntrainedCheckpoint } from "../helpers/checkpoint.ts";
import { RUN_PRESETS } from "../../src/train/config.ts";
import { exportModel, loadCheckpoint } from "../../src/train/checkpoint.ts";
import { loadModel } from "../../src/model/loadFile.ts";
import { namedLeaves } from "../../src/engine/params.ts";
import { generateScene } from "../../src/data/synth/index.ts";
import { writeScene } from "../../src/data/sceneIo.ts";
import { interpolatePath, orbitPath, spreadFrames } from "../../src/pipeline/novelViews.ts";
import { mat4Translation, mat4Mul, rigidInverse, norm3 } from "../../src/geometry/mat4.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";
import type { Camera } from "../../src/geometry/cameras.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-render-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = RUN_PRESETS.tiny;
const ckpt = join(dir, "ckpt.safetensors");
const model = join(dir, "model.safetensors");
const scene = join(dir, "scene");
const short = join(dir, "short");

before(async () => {
  await engine();
  await saveUntrainedCheckpoint(ckpt, run, 3, 7);
  const cfg = { ...run.data, frames: 6 };
  await writeScene(scene, generateScene(5, cfg));
  await writeScene(short, generateScene(6, { ...run.data, frames: 3 }));
});

async function leaves(path: string): Promise<Map<string, Float32Array>> {
  const { params } = loadModel(path);
  const out = new Map<string, Float32Array>();
  for (const [name, x] of namedLeaves(params)) out.set(name, (await x.data()) as Float32Array);
  return out;
}

describe("model files", () => {
  it("exportModel writes F16 params only: about half the params' F32 bytes, values within F16 rounding", async () => {
    const meta = await exportModel(ckpt, model);
    assert.equal(meta.format, "wildrayzer-model-v1");
    assert.equal(meta.step, 7);
    const a = await leaves(ckpt);
    const b = await leaves(model);
    let count = 0;
    for (const [name, x] of a) {
      const y = b.get(name)!;
      for (let i = 0; i < x.length; i++) {
        assert.ok(Math.abs(x[i]! - y[i]!) <= Math.abs(x[i]!) * 2 ** -11 + 2 ** -24, `${name}[${i}]: ${x[i]} vs ${y[i]}`);
      }
      count += x.length;
    }
    const size = statSync(model).size;
    assert.ok(size > 2 * count && size < 2 * count + 65536, `F16 file ${size} bytes for ${count} values`);
    assert.throws(() => loadCheckpoint(model), (e: unknown) => e instanceof WildrayzerError && /cannot resume training/.test(e.message));
  });
});

describe("camera paths", () => {
  const cam = (x: number, yaw: number): Camera => {
    const c = Math.cos(yaw);
    const s = Math.sin(yaw);
    return { c2w: [c, 0, s, x, 0, 1, 0, 0, -s, 0, c, 0, 0, 0, 0, 1], fxfycxcy: [30, 30, 16, 16] };
  };
  it("interpolate passes through the first and last keys with the requested count", () => {
    const keys = [cam(0, 0), cam(1, 0.1), cam(2, 0.3)];
    const p = interpolatePath(keys, 9);
    assert.equal(p.length, 9);
    assert.deepEqual(mat4Translation(p[0]!.c2w), [0, 0, 0]);
    assert.ok(Math.abs(mat4Translation(p[8]!.c2w)[0] - 2) < 1e-9, "ends at the last key");
    const xs = p.map((c) => mat4Translation(c.c2w)[0]);
    assert.ok(xs.every((x, i) => i === 0 || x >= xs[i - 1]!), `monotone along the keys: ${xs}`);
  });
  it("orbit stays on a circle around the first camera, sized by the baseline", () => {
    const p = orbitPath(cam(0, 0), cam(0.8, 0), 12);
    for (const c of p) {
      const rel = mat4Mul(rigidInverse(cam(0, 0).c2w), c.c2w);
      assert.ok(Math.abs(norm3(mat4Translation(rel)) - 0.2) < 1e-9, "radius = baseline / 4");
      assert.ok(rel[10]! > Math.cos((5 * Math.PI) / 180), "still looking forward");
    }
    assert.deepEqual(spreadFrames(70, 6), [0, 14, 28, 41, 55, 69]);
  });
});

describe("wildrayzer render", () => {
  it("writes the novel views, an mp4 and gif of the path, reconstructions and the estimated cameras", async () => {
    const out = join(dir, "out");
    const r = await runCli(["render", "--ckpt", model, "--input", scene, "--out", out, "--frames", "5"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readdirSync(join(out, "novel")).length, 5);
    for (const f of ["path.mp4", "path.gif", "cameras.json"]) assert.ok(existsSync(join(out, f)), f);
    const cams = JSON.parse(readFileSync(join(out, "cameras.json"), "utf8")) as { frames: { role: string; c2w: number[]; name: string }[]; path: { cameras: Camera[] } };
    assert.deepEqual(cams.frames.map((f) => f.role), ["input", "target", "target", "input"]);
    assert.deepEqual(cams.frames[0]!.c2w, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], "the first input is the canonical view");
    assert.equal(cams.path.cameras.length, 5);
    assert.deepEqual(readdirSync(join(out, "reconstructions")).sort(), cams.frames.filter((f) => f.role === "target").map((f) => `${f.name}.png`).sort());
  });

  it("bad inputs exit 2 with one line: missing or truncated checkpoint, too few frames, wrong size", async () => {
    const trunc = join(dir, "trunc.safetensors");
    writeFileSync(trunc, readFileSync(model).subarray(0, 500));
    const cases: [string[], RegExp][] = [
      [["--ckpt", join(dir, "nope.safetensors"), "--input", scene], /nope\.safetensors: file not found/],
      [["--ckpt", trunc, "--input", scene], /trunc\.safetensors: /],
      [["--ckpt", model, "--input", short], /3 frames, but the model needs at least 4/],
      [["--ckpt", model, "--input", scene, "--size", "64"], /--size 64: this checkpoint works at 32×32/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runCli(["render", ...args, "--out", join(dir, "bad")]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
    assert.equal(existsSync(join(dir, "bad")), false, "nothing written");
  });
});
