import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCli } from "../helpers/cli.ts";
import { CommanderError } from "commander";
import { reportError } from "../../src/cli/main.ts";
import { WildrayzerError } from "../../src/engine/errors.ts";

describe("wildrayzer command line", { concurrency: 4 }, () => {
  it("--help lists the commands and exits 0", async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: wildrayzer /);
    for (const cmd of ["info", "demo", "synth"]) assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, "m"));
    assert.equal(r.stderr, "");
  });

  it("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  for (const args of [["bogus"], ["--bogus", "info"], ["info", "--nope"], ["--threads", "0", "info"], ["--device", "tpu", "info"]]) {
    it(`a usage error (${args.join(" ")}) exits 2 with one line and no stack trace`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^wildrayzer: [^\n]+\n$/);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    });
  }

  const vulkan = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"].some((d) =>
    existsSync(`${d}/libvulkan.so.1`),
  );
  it("--device webgpu with no usable adapter exits 2 with one wildrayzer line and no stack trace", { skip: vulkan && "this machine has a Vulkan driver" }, async () => {
    // No GPU or Vulkan driver here (CI and dev machines) and no OpenGL ES flags.
    const r = await runCli(["--device", "webgpu", "info"], { WRZ_WEBGPU_FLAGS: "", WRZ_WEBGPU_COMPAT: "" });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^wildrayzer: --device webgpu: [^\n]*use --device wasm\n$/);
  });
});

describe("wildrayzer info", () => {
  it("--json prints one parseable object with the engine settings", async () => {
    const r = await runCli(["info", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(info.threads, 1);
    assert.equal(info.device, "wasm");
    assert.equal(info.jaxVersion, "0.1.25");
    assert.equal(info.node, process.versions.node);
    const models = info.models as { preset: string; params: number }[];
    assert.deepEqual(models.map((m) => m.preset), ["tiny", "small", "base", "paper", "official-wildrayzer-2view", "official-rayzer-dl3dv"]);
    assert.ok(models.every((m, i) => i === 0 || m.params > models[i - 1]!.params), "presets grow in size");
    // the official WildRayZer is the paper model plus its noise token (768 values); RayZer has 4× the scene tokens
    assert.equal(models[4]!.params - models[3]!.params, 768);
    assert.match(String(info.version), /^\d+\.\d+\.\d+/);
  });
  it("takes --threads after the command too, and prints a readable table", async () => {
    const r = await runCli(["info", "--threads=2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^threads +2$/m);
    assert.match(r.stdout, /^model small +1\.50 M params, 32² px/m);
  });
  it("--preset paper prints its parameter count and config; an unknown preset exits 2", async () => {
    const r = await runCli(["info", "--preset", "paper"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^model paper +236\.59 M params/m);
    assert.match(r.stdout, /"sceneTokens": 768/);
    const bad = await runCli(["info", "--preset", "huge"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^wildrayzer: --preset huge: unknown model preset/);
  });
});

// `wildrayzer demo` and `wildrayzer synth`: test/cli/demo.test.ts, test/cli/synth.test.ts.

describe("error reporting", () => {
  it("maps commander errors to exit 2 with one line", () => {
    const r = reportError(new CommanderError(1, "commander.unknownCommand", "error: unknown command 'x'\n(Did you mean info?)"), false);
    assert.deepEqual(r, { code: 2, text: "wildrayzer: unknown command 'x' (Did you mean info?)\n" });
    assert.equal(reportError(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"), false).code, 0);
  });
  it("prints a WildrayzerError as one line with its exit code", () => {
    assert.deepEqual(reportError(new WildrayzerError("scene.json: bad"), false), { code: 2, text: "wildrayzer: scene.json: bad\n" });
    assert.equal(reportError(new WildrayzerError("run failed", { exitCode: 1 }), false).code, 1);
  });
  it("reports any other error as an internal error, with the stack only under --verbose", () => {
    const err = new TypeError("x is undefined");
    const quiet = reportError(err, false);
    assert.deepEqual(quiet, { code: 1, text: "wildrayzer: internal error: x is undefined (rerun with --verbose for the stack trace)\n" });
    const verbose = reportError(err, true);
    assert.equal(verbose.code, 1);
    assert.match(verbose.text, /^wildrayzer: internal error: x is undefined\nTypeError: x is undefined\n\s+at /);
  });
});
