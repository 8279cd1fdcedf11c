// ESLint flat config: typescript-eslint's recommended rules, plus the one-way import rule of STYLE.md §1:
// engine → geometry → data → model/features/masks → train/eval → cli/web. A folder imports only from its left.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importPlugin from "eslint-plugin-import";
import globals from "globals";

const layers = ["engine", "geometry", "data", "model", "features", "masks", "train", "eval", "cli", "web"];
/** Folders each layer must not import from (everything to its right, and its siblings where STYLE.md says so). */
const forbidden = {
  engine: ["geometry", "data", "model", "features", "masks", "train", "eval", "cli", "web"],
  geometry: ["data", "model", "features", "masks", "train", "eval", "cli", "web"],
  data: ["model", "features", "masks", "train", "eval", "cli", "web"],
  model: ["features", "masks", "train", "eval", "cli", "web"],
  features: ["model", "masks", "train", "eval", "cli", "web"],
  masks: ["model", "features", "train", "eval", "cli", "web"],
  eval: ["train", "cli", "web"],
  train: ["cli", "web"],
  cli: ["web"],
  web: ["cli", "train", "data/readers"],
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
);
