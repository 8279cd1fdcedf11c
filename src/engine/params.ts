/**
 * Parameter trees: plain nested objects and lists whose leaves are jax-js arrays, shaped like the method
 * (`renderer.blocks[3].qkv.weight`). Helpers to name leaves with dotted paths (`renderer.blocks.3.qkv.weight`,
 * the names checkpoints use), count parameters, and initialise leaves (truncated normal, zeros, ones).
 * Ownership follows jax-js: `ref(tree)` adds one reference to every leaf, `dispose(tree)` drops one.
 */
import { makeJaxpr, numpy as np, random, tree as jtree, type Array as JArray } from "@jax-js/jax";

/** A parameter tree: nested objects / lists with array leaves. */
export type ParamTree = JArray | readonly ParamTree[] | { readonly [key: string]: ParamTree };

/** Adds one reference to every leaf and returns the same tree (for a use that must not consume it). */
export function ref<T extends ParamTree>(tree: T): T {
  return jtree.ref(tree as never) as T;
}

/** Drops one reference from every leaf. */
export function dispose(tree: ParamTree): void {
  jtree.dispose(tree as never);
}

function isArrayLeaf(x: unknown): x is JArray {
  return typeof x === "object" && x !== null && "shape" in x && "dtype" in x && typeof (x as JArray).dispose === "function";
}

/** Leaves with their dotted names, in a stable order (object keys as written, list indices ascending). */
export function namedLeaves(tree: ParamTree, prefix = ""): [string, JArray][] {
  if (isArrayLeaf(tree)) return [[prefix, tree]];
  const out: [string, JArray][] = [];
  const entries: [string, ParamTree][] = Array.isArray(tree)
    ? (tree as readonly ParamTree[]).map((v, i) => [String(i), v])
    : Object.entries(tree as Record<string, ParamTree>);
  for (const [k, v] of entries) out.push(...namedLeaves(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

/**
 * Rebuilds a tree shaped like `like` from named leaves (`get(name)` returns the array for a dotted name).
 * Used by checkpoint loading: the structure comes from the model's init, the values from the file.
 */
export function rebuild<T extends ParamTree>(like: T, get: (name: string, likeLeaf: JArray) => JArray, prefix = ""): T {
  if (isArrayLeaf(like)) return get(prefix, like) as unknown as T;
  const name = (k: string) => (prefix ? `${prefix}.${k}` : k);
  if (Array.isArray(like)) return (like as readonly ParamTree[]).map((v, i) => rebuild(v, get, name(String(i)))) as unknown as T;
  const out: Record<string, ParamTree> = {};
  for (const [k, v] of Object.entries(like as Record<string, ParamTree>)) out[k] = rebuild(v, get, name(k));
  return out as T;
}

/** Total number of scalars in the tree (reads shapes only; consumes nothing). */
export function paramCount(tree: ParamTree): number {
  return namedLeaves(tree).reduce((s, [, a]) => s + a.shape.reduce((p, d) => p * d, 1), 0);
}

/** Zeros of `shape` (float32). */
export function zeros(shape: number[]): JArray {
  return np.zeros(shape);
}

/** Ones of `shape` (float32). */
export function ones(shape: number[]): JArray {
  return np.ones(shape);
}

/**
 * Normal(0, std) truncated to ±2 std, as `torch.nn.init.trunc_normal_(std=std, a=-2std, b=2std)`. jax-js has no
 * truncated normal, so values outside ±2 are redrawn from fresh normals four times (a value survives all five
 * draws outside the band with probability 0.0455⁵ ≈ 2e-7; those few are clipped). Runs on the device (no host
 * read, so it works on WebGPU too); the same key gives the same values. Consumes `key`.
 */
export function truncNormal(key: JArray, shape: number[], std: number): JArray {
  const [first, ...redraws] = random.split(key, 5) as unknown as JArray[];
  let z = random.normal(first!, shape);
  for (const k of redraws) {
    const outside = np.greater(np.abs(z.ref), 2);
    z = np.where(outside, random.normal(k, shape), z);
  }
  return np.clip(z, -2, 2).mul(std);
}

/** Normal(0, std) from jax-js's PRNG. Consumes `key`. */
export function normal(key: JArray, shape: number[], std: number): JArray {
  return random.normal(key, shape).mul(std);
}

/**
 * The parameter count of the tree `init(key)` would build, found by tracing `init` abstractly (jax-js
 * `makeJaxpr`): shapes only, no memory, so the 237 M-parameter `paper` preset counts in well under a second.
 */
export function abstractParamCount(init: (key: JArray) => ParamTree): number {
  const traced = makeJaxpr((k: JArray) => init(k) as never)(random.key(0));
  const outs = (traced.jaxpr as unknown as { jaxpr: { outs: { aval: { shape: number[] } }[] } }).jaxpr.outs;
  const n = outs.reduce((s, o) => s + o.aval.shape.reduce((a, b) => a * b, 1), 0);
  traced.jaxpr.dispose();
  return n;
}

/**
 * The tree `init(key)` would build, with shape-only stand-ins for its leaves (`shape`, `dtype` and a no-op
 * `dispose`), found by tracing `init` abstractly like `abstractParamCount`: no memory, so a loader can take the
 * structure of a paper-size model and fill it from a file without a random initialisation first. The stand-ins
 * are not arrays: only `namedLeaves`, `rebuild` and `safetensorsToTree` (which replace them) may read them.
 */
export function abstractTree<T extends ParamTree>(init: (key: JArray) => T): T {
  const traced = makeJaxpr((k: JArray) => init(k) as never)(random.key(0));
  const outs = (traced.jaxpr as unknown as { jaxpr: { outs: { aval: { shape: number[]; dtype: string } }[] } }).jaxpr.outs;
  const leaves = outs.map((o) => ({ shape: [...o.aval.shape], dtype: o.aval.dtype, dispose: () => {} }));
  traced.jaxpr.dispose();
  return jtree.unflatten(traced.treedef, leaves as never) as unknown as T;
}
