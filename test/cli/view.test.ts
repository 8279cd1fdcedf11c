/**
 * `wildrayzer view`: builds the page once (a second run reuses the build), writes a self-contained static folder
 * with `--out` (page, bundle, both shipped models, the backbone's weights as assets), serves it with cross-origin isolation and nothing outside it, stops
 * cleanly on SIGINT, and rejects bad flags with exit 2. The page itself is tested in test/web/viewer.test.ts.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, runCli } from "../helpers/cli.ts";
import { serveStatic } from "../../src/cli/view.ts";
import { loadNsfwjsMobilenetFiles } from "../../src/features/mobilenetV2.ts";
import { DEFAULT_MODEL, DEFAULT_WILDRAYZER } from "../../src/model/loadFile.ts";

const dir = mkdtempSync(join(tmpdir(), "wrz-view-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("wildrayzer view", () => {
  const out = join(dir, "site");

  it("--out builds a static folder once; a second run reuses it", async () => {
    const first = await runCli(["view", "--no-serve", "--out", out]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^built the viewer into .*site \([\d.]+ s\)$/m);
    const html = readFileSync(join(out, "index.html"), "utf8");
    const scripts = [...html.matchAll(/src="\.\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
    assert.equal(scripts.length, 1, "one module script, referenced relatively (works from any folder)");
    assert.ok(readdirSync(join(out, "assets")).some((f) => scripts[0]!.endsWith(f)), "the script is in the folder");
    assert.deepEqual(readFileSync(join(out, "models", "small.safetensors")), readFileSync(DEFAULT_MODEL), "the shipped model is copied beside the page");
    assert.deepEqual(readFileSync(join(out, "models", "wildrayzer-small.safetensors")), readFileSync(DEFAULT_WILDRAYZER), "and the shipped WildRayZer");
    const assets = readdirSync(join(out, "assets"));
    // the backbone's two files are assets of the build, byte for byte what Node's loader reads from the package
    const { modelJson, shard } = await loadNsfwjsMobilenetFiles();
    const bins = assets.filter((f) => /^mobilenet_v2-.*\.bin$/.test(f));
    const jsons = assets.filter((f) => /^mobilenet_v2-.*\.json$/.test(f));
    assert.equal(bins.length, 1, `one weight shard among ${assets}`);
    assert.equal(jsons.length, 1, `one model.json among ${assets}`);
    assert.ok(Buffer.from(shard).equals(readFileSync(join(out, "assets", bins[0]!))), "the shard's bytes");
    assert.equal(readFileSync(join(out, "assets", jsons[0]!), "utf8"), JSON.stringify(modelJson), "the model.json (as JSON text: its -0 minimums read back as 0)");
    const workers = assets.filter((f) => /^worker-.*\.js$/.test(f));
    assert.equal(workers.length, 1, `one worker bundle among ${assets}`);
    const worker = readFileSync(join(out, "assets", workers[0]!), "utf8");
    assert.ok(worker.includes(bins[0]!) && worker.includes(jsons[0]!), "the worker fetches them by their hashed names");
    // the package's base64 modules are not bundled (the page needs only the assets): no script is that large
    for (const f of assets.filter((a) => a.endsWith(".js"))) assert.ok(statSync(join(out, "assets", f)).size < 1.5e6, `${f} is under 1.5 MB`);
    // Node modules are reached only through process.getBuiltinModule under Node (engine/); none is imported
    for (const [name, code] of [["page", readFileSync(join(out, scripts[0]!), "utf8")], ["worker", worker]] as const) {
      assert.ok(!/from\s*["'`]node:|import\(\s*["'`]node:/.test(code), `no Node module is imported by the ${name} bundle`);
    }
    const second = await runCli(["view", "--no-serve", "--out", out]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /viewer build is current/);
  });

  it("serves the folder with COOP/COEP, 404 for what is missing, nothing outside it", async () => {
    const { server, url } = await serveStatic(out, 0, "127.0.0.1");
    try {
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get("cross-origin-opener-policy"), "same-origin");
      assert.equal(page.headers.get("cross-origin-embedder-policy"), "require-corp");
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(await page.text(), /<title>WildRayZer viewer<\/title>/);
      const model = await fetch(`${url}models/small.safetensors`);
      assert.equal(Buffer.from(await model.arrayBuffer()).length, readFileSync(DEFAULT_MODEL).length);
      const bin = readdirSync(join(out, "assets")).find((f) => f.endsWith(".bin"))!;
      const shard = await fetch(`${url}assets/${bin}`);
      assert.equal(shard.headers.get("content-type"), "application/octet-stream");
      assert.equal(Buffer.from(await shard.arrayBuffer()).length, readFileSync(join(out, "assets", bin)).length);
      assert.equal((await fetch(`${url}nope.js`)).status, 404);
      assert.notEqual((await fetch(`${url}..%2F..%2Fetc%2Fpasswd`)).status, 200);
    } finally {
      server.close();
    }
  });

  it("prints the URL, serves, and stops on SIGINT with exit 0", async () => {
    const child = spawn(process.execPath, ["bin/wildrayzer.js", "view", "--port", "0", "--out", out], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    const url = await new Promise<string>((res, rej) => {
      child.stdout.setEncoding("utf8").on("data", (s: string) => {
        stdout += s;
        const m = /viewer: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (m) res(m[1]!);
      });
      child.on("close", () => rej(new Error(`view exited early: ${stdout}`)));
    });
    assert.equal((await fetch(url)).status, 200);
    const code = await new Promise<number | null>((res) => {
      child.on("close", res);
      child.kill("SIGINT");
    });
    assert.equal(code, 0);
  });

  it("bad flags are one line and exit 2", async () => {
    const port = await runCli(["view", "--port", "http"]);
    assert.equal(port.code, 2);
    assert.equal(port.stderr, "wildrayzer: --port http: expected an integer in [0, 65535]\n");
    const foreign = join(dir, "foreign");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "notes.txt"), "mine");
    const r = await runCli(["view", "--no-serve", "--out", foreign]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^wildrayzer: --out .*foreign: folder exists and is not a viewer build; choose an empty or new folder\n$/);
    assert.equal(readFileSync(join(foreign, "notes.txt"), "utf8"), "mine", "nothing of the user's is removed");
  });
});
