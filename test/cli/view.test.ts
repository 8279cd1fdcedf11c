/**
 * `wildrayzer view`: builds the page once (a second run reuses the build), writes a self-contained static folder
 * with `--out` (page, bundle, shipped model), serves it with cross-origin isolation and nothing outside it, stops
 * cleanly on SIGINT, and rejects bad flags with exit 2. The page itself is tested in test/web/viewer.test.ts.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, runCli } from "../helpers/cli.ts";
import { serveStatic } from "../../src/cli/view.ts";
import { DEFAULT_MODEL } from "../../src/model/loadFile.ts";

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
    const bundle = readFileSync(join(out, scripts[0]!), "utf8");
    // Node modules are reached only through process.getBuiltinModule under Node (engine/); none is imported
    assert.ok(!/from\s*["'`]node:|import\(\s*["'`]node:/.test(bundle), "no Node module is imported by the bundle");
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
