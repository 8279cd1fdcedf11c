// ESLint flat config: typescript-eslint's recommended rules, plus the one-way import rule of STYLE.md §1:
// engine → geometry → data → model/features/masks → pipeline → train/eval → cli/web. A folder imports only from its left.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importPlugin from "eslint-plugin-import";
import globals from "globals";

const layers = ["engine", "geometry", "data", "model", "features", "masks", "pipeline", "train", "eval", "cli", "web"];
/** Folders each layer must not import from (everything to its right, and its siblings where STYLE.md says so). */
const forbidden = {
  engine: ["geometry", "data", "model", "features", "masks", "pipeline", "train", "eval", "cli", "web"],
  geometry: ["data", "model", "features", "masks", "pipeline", "train", "eval", "cli", "web"],
  data: ["model", "features", "masks", "pipeline", "train", "eval", "cli", "web"],
  model: ["features", "masks", "pipeline", "train", "eval", "cli", "web"],
  features: ["model", "masks", "pipeline", "train", "eval", "cli", "web"],
  masks: ["model", "features", "pipeline", "train", "eval", "cli", "web"],
  pipeline: ["train", "eval", "cli", "web"],
  eval: ["train", "cli", "web"],
  train: ["cli", "web"],
  cli: ["web"],
  web: ["cli", "train", "eval", "data/readers", "engine/files.ts", "model/loadFile.ts"],
};
const zones = layers.flatMap((target) =>
  (forbidden[target] ?? []).map((from) => ({
    target: `./src/${target}`,
    from: `./src/${from}`,
    message: `src/${target} must not import from src/${from} (STYLE.md §1: imports run one way)`,
  })),
);

export default tseslint.config(
  { ignores: ["node_modules/", "bench/results/", "scratch/", "runs/", "out/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { import: importPlugin },
    rules: {
      "import/no-restricted-paths": ["error", { zones }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      // On Node 20 under tsx, a failing assert.ok(cond) without a message hangs while Node re-reads the source to
      // rebuild the expression (the source map does not match): always give the message.
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length=1]",
          message: "give assert.ok a message (a failing assert.ok without one hangs under tsx on Node 20)",
        },
      ],
    },
  },
);
