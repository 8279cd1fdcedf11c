/**
 * `wildrayzer view [--port N]`: builds the browser viewer (src/web) once with vite's JS API into a cache folder
 * (`node_modules/.cache/wildrayzer-web`, rebuilt when the sources, the lock file or the shipped model change; or
 * `--out DIR`), copies the shipped models beside it, and serves the folder on a small static `node:http` server with
 * the cross-origin isolation headers that let jax-js's wasm backend use threads (SharedArrayBuffer). The built folder
 * also works from any static server (single-threaded wasm without those headers). `--no-serve` only builds.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { WildrayzerError } from "../engine/errors.ts";
import { loadNsfwjsMobilenetFiles, MOBILENET_SOURCE } from "../features/mobilenetV2.ts";
import { DEFAULT_MODEL, DEFAULT_WILDRAYZER } from "../model/loadFile.ts";
import type { GlobalOptions } from "./globals.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const VIEWER_CACHE = join(REPO, "node_modules", ".cache", "wildrayzer-web");
const STAMP = ".wildrayzer-build";

/** A hash of everything the built page depends on: the sources under src/, the lock file and the shipped models. */
export function viewerSourceHash(): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|html|css|json)$/.test(e.name)) h.update(relative(REPO, p)).update(readFileSync(p));
    }
  };
  walk(join(REPO, "src"));
  for (const f of [join(REPO, "package-lock.json"), DEFAULT_MODEL, DEFAULT_WILDRAYZER]) if (existsSync(f)) h.update(readFileSync(f));
  return h.digest("hex").slice(0, 16);
}

/** The page's shipped models: file name under the build's `models/` → the file in the repository. */
export const VIEWER_MODELS: Record<string, string> = { "wildrayzer-small.safetensors": DEFAULT_WILDRAYZER, "small.safetensors": DEFAULT_MODEL };

/** The module id through which the page's worker gets the URLs of the backbone's files (src/web/backbone.ts). */
const BACKBONE_MODULE = "virtual:wildrayzer-backbone";

/**
 * A vite plugin that ships the bundled MobileNetV2 with the page: it reads the backbone's two files from the
 * installed package (as the Node loader does), emits them as assets of the build (`assets/mobilenet_v2-*.json`,
 * `assets/mobilenet_v2-*.bin`) and gives the worker their URLs through `virtual:wildrayzer-backbone`. The page
 * fetches them from its own folder: nothing is downloaded from elsewhere.
 */
function backboneAssets() {
  const resolved = `\0${BACKBONE_MODULE}`;
  return {
    name: "wildrayzer-backbone",
    resolveId: (id: string) => (id === BACKBONE_MODULE ? resolved : undefined),
    async load(this: { emitFile(f: { type: "asset"; name: string; source: string | Uint8Array }): string }, id: string) {
      if (id !== resolved) return undefined;
      const { modelJson, shard } = await loadNsfwjsMobilenetFiles();
      const json = this.emitFile({ type: "asset", name: "mobilenet_v2.json", source: JSON.stringify(modelJson) });
      const bin = this.emitFile({ type: "asset", name: "mobilenet_v2.bin", source: shard });
      return [
        `export const source = ${JSON.stringify(MOBILENET_SOURCE)};`,
        `export const modelJsonUrl = import.meta.ROLLUP_FILE_URL_${json};`,
        `export const shardUrl = import.meta.ROLLUP_FILE_URL_${bin};`,
      ].join("\n");
    },
  };
}

/**
 * Builds the viewer into `outDir` (default: the cache) unless a build of the same sources is there. Returns the
 * folder and whether it built.
 */
export async function buildViewer(opts: { outDir?: string; force?: boolean; quiet?: boolean } = {}): Promise<{ dir: string; built: boolean; ms: number }> {
  const dir = resolve(opts.outDir ?? VIEWER_CACHE);
  const hash = viewerSourceHash();
  const stamp = join(dir, STAMP);
  if (!opts.force && existsSync(stamp) && readFileSync(stamp, "utf8") === hash && existsSync(join(dir, "index.html"))) return { dir, built: false, ms: 0 };
  if (existsSync(dir) && opts.outDir && !existsSync(stamp) && readdirSync(dir).length > 0) {
    throw new WildrayzerError(`--out ${opts.outDir}: folder exists and is not a viewer build; choose an empty or new folder`);
  }
  const t0 = performance.now();
  const { build } = await import("vite");
  await build({
    configFile: false,
    root: join(REPO, "src", "web"),
    base: "./",
    logLevel: opts.quiet ? "silent" : "warn",
    publicDir: false,
    // `webgpu` (Dawn bindings) is imported only under Node (src/engine/backend.ts); a browser has navigator.gpu
    build: { outDir: dir, emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 4096, reportCompressedSize: false, rolldownOptions: { external: ["webgpu"] } },
    worker: { format: "es", plugins: () => [backboneAssets()], rolldownOptions: { external: ["webgpu"] } },
  });
  mkdirSync(join(dir, "models"), { recursive: true });
  for (const [name, file] of Object.entries(VIEWER_MODELS)) copyFileSync(file, join(dir, "models", name));
  writeFileSync(stamp, hash);
  return { dir, built: true, ms: performance.now() - t0 };
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".safetensors": "application/octet-stream",
  ".bin": "application/octet-stream",
};

/** A static server for `dir` with cross-origin isolation (COOP/COEP), so the page may use SharedArrayBuffer. */
export function serveStatic(dir: string, port: number, host: string): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": MIME[extname(file)] ?? "application/octet-stream",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
      "cache-control": "no-cache",
    });
    res.end(readFileSync(file));
  });
  return new Promise((res, rej) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      rej(err.code === "EADDRINUSE" ? new WildrayzerError(`--port ${port}: the port is in use; choose another with --port N`) : err),
    );
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === "object" && addr ? addr.port : port;
      res({ server, url: `http://${host.includes(":") ? `[${host}]` : host}:${p}/` });
    });
  });
}

type ViewFlags = { port: string; host: string; out?: string; serve: boolean; rebuild: boolean };

export function registerView(program: Command, globals: () => GlobalOptions): void {
  program
    .command("view")
    .description("build and serve the browser viewer: drop frames or a video, see cameras, motion masks and novel views (the model runs in the page)")
    .option("--port <n>", "port to serve on (0: any free port)", "5173")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--out <dir>", "build the page into this folder instead of the cache (it works from any static server)")
    .option("--no-serve", "only build")
    .option("--rebuild", "build even if the cached build is current", false)
    .action(async (flags: ViewFlags) => {
      const g = globals();
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new WildrayzerError(`--port ${flags.port}: expected an integer in [0, 65535]`);
      const b = await buildViewer({ outDir: flags.out, force: flags.rebuild, quiet: g.quiet });
      if (!g.quiet) process.stdout.write(b.built ? `built the viewer into ${b.dir} (${(b.ms / 1000).toFixed(1)} s)\n` : `viewer build is current: ${b.dir}\n`);
      if (!flags.serve) return;
      const { server, url } = await serveStatic(b.dir, port, flags.host);
      process.stdout.write(`viewer: ${url}  (Ctrl-C to stop)\n`);
      await new Promise<void>((res) => {
        const stop = () => {
          server.close(() => res());
          server.closeAllConnections(); // an open page's keep-alive connections must not hold the exit
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
