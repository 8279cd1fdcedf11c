#!/usr/bin/env node
// The `wildrayzer` command. Plain ESM JavaScript so it runs right after `npm install`, with no build step:
// it maps `--threads N` onto WRZ_THREADS before anything imports jax-js (which sizes its worker pool at import),
// registers tsx to load the TypeScript sources, runs `main` from src/cli/main.ts, and exits with its code.

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--") break;
  if (a === "--threads" && i + 1 < args.length) process.env.WRZ_THREADS = args[i + 1];
  else if (a.startsWith("--threads=")) process.env.WRZ_THREADS = a.slice("--threads=".length);
}

const { fileURLToPath } = await import("node:url");
const { register } = await import("tsx/esm/api");
register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv);

// Flush both streams, then exit explicitly: nothing (a worker thread, a timer) may keep the process alive.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write("", resolve))));
process.exit(code);
