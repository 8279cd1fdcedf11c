/**
 * A small ONNX graph builder: symbolic float32 tensors with their shapes tracked on the host, ops that mirror the
 * jax-js calls our layers make (matmul, broadcasting arithmetic, reshape, transpose, slice, concat, reductions,
 * softmax, layer norm), weights as initializers, and encoding to ONNX protobuf bytes through `onnx-proto`.
 * The shapes are static (every graph is built for one input shape); each op checks its operands' shapes and
 * throws on a mismatch, so an export error shows up at build time with the op's name, not inside the runtime.
 * See docs/ENGINE.md ("ONNX Runtime inference") for why we export and which opset we target.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

/** The opset the graphs use: 17 has LayerNormalization; ONNX Runtime 1.30 runs it on every platform. */
export const ONNX_OPSET = 17;

/** A symbolic float32 tensor of the graph under construction. */
export type Sym = { readonly name: string; readonly shape: readonly number[] };

type Attr = number | number[] | string | { floats: number[] };

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of two shapes; throws with `what` on a mismatch. */
export function broadcastShapes(a: readonly number[], b: readonly number[], what: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`${what}: shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${what}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export class OnnxGraph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly int64Cache = new Map<string, string>();
  private readonly scalarCache = new Map<number, Sym>();
  private counter = 0;
  private usesMicrosoftOps = false;

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  private static valueInfo(name: string, shape: readonly number[], elemType = onnx.TensorProto.DataType.FLOAT) {
    return onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType,
          shape: onnx.TensorShapeProto.create({ dim: shape.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })) }),
        }),
      }),
    });
  }

  /** A float32 graph input. */
  input(name: string, shape: readonly number[]): Sym {
    this.inputs.push(OnnxGraph.valueInfo(name, shape));
    return { name, shape: [...shape] };
  }

  /** Marks `t` as a graph output called `name` (through an Identity node, so any tensor can be one). */
  output(t: Sym, name: string): void {
    this.nodes.push(onnx.NodeProto.create({ opType: "Identity", input: [t.name], output: [name], name: `out_${name}` }));
    this.outputs.push(OnnxGraph.valueInfo(name, t.shape));
  }

  /** A float32 initializer (a weight or a constant table). `values.length` must equal the product of `shape`. */
  constant(values: Float32Array | readonly number[], shape: readonly number[], name?: string): Sym {
    const size = shape.reduce((p, d) => p * d, 1);
    if (values.length !== size) throw new Error(`constant ${name ?? ""}: ${values.length} values for shape [${shape}]`);
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const id = name ?? this.fresh("const");
    this.initializers.push(
      onnx.TensorProto.create({
        name: id,
        dims: [...shape],
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      }),
    );
    return { name: id, shape: [...shape] };
  }

  /** A float32 scalar constant (shared between uses). */
  scalar(v: number): Sym {
    let s = this.scalarCache.get(v);
    if (!s) {
      s = this.constant([v], []);
      this.scalarCache.set(v, s);
    }
    return s;
  }

  /** An int64 initializer (shapes, axes, slice bounds), shared between uses. Returns its name. */
  private int64(values: readonly number[]): string {
    const key = values.join(",");
    let id = this.int64Cache.get(key);
    if (!id) {
      id = this.fresh("i64");
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      this.initializers.push(
        onnx.TensorProto.create({
          name: id,
          dims: [values.length],
          dataType: onnx.TensorProto.DataType.INT64,
          rawData: new Uint8Array(data.buffer),
        }),
      );
      this.int64Cache.set(key, id);
    }
    return id;
  }

  /** Appends a node with one output of the given shape. */
  node(opType: string, inputs: readonly string[], shape: readonly number[], attrs: Record<string, Attr> = {}, domain = ""): Sym {
    const out = this.fresh(opType.toLowerCase());
    const attribute = Object.entries(attrs).map(([name, v]) => {
      const T = onnx.AttributeProto.AttributeType;
      if (typeof v === "number") {
        return Number.isInteger(v) && !["epsilon", "alpha", "scale"].includes(name) ? onnx.AttributeProto.create({ name, type: T.INT, i: v }) : onnx.AttributeProto.create({ name, type: T.FLOAT, f: v });
      }
      if (typeof v === "string") return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
      return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v.floats });
    });
    if (domain === "com.microsoft") this.usesMicrosoftOps = true;
    this.nodes.push(onnx.NodeProto.create({ opType, input: [...inputs], output: [out], name: out, attribute, domain }));
    return { name: out, shape: [...shape] };
  }

  private operand(b: Sym | number): Sym {
    return typeof b === "number" ? this.scalar(b) : b;
  }

  private binary(op: string, a: Sym, b: Sym | number): Sym {
    const bb = this.operand(b);
    return this.node(op, [a.name, bb.name], broadcastShapes(a.shape, bb.shape, op));
  }

  add(a: Sym, b: Sym | number): Sym {
    return this.binary("Add", a, b);
  }
  sub(a: Sym, b: Sym | number): Sym {
    return this.binary("Sub", a, b);
  }
  mul(a: Sym, b: Sym | number): Sym {
    return this.binary("Mul", a, b);
  }
  div(a: Sym, b: Sym | number): Sym {
    return this.binary("Div", a, b);
  }
  max(a: Sym, b: Sym | number): Sym {
    return this.binary("Max", a, b);
  }

  /** A shape-preserving unary op: Sqrt, Reciprocal, Sigmoid, Erf, Exp, Neg, Sin, Cos. */
  unary(op: "Sqrt" | "Reciprocal" | "Sigmoid" | "Erf" | "Exp" | "Neg" | "Sin" | "Cos", a: Sym): Sym {
    return this.node(op, [a.name], a.shape);
  }

  /** `x · sigmoid(x)`. */
  silu(x: Sym): Sym {
    return this.mul(x, this.unary("Sigmoid", x));
  }

  /**
   * Exact (erf) GELU, `((erf(x / √2) + 1) · x) · 0.5`: written in the op order ONNX Runtime's Gelu fusion matches,
   * so it runs as one kernel there.
   */
  gelu(x: Sym): Sym {
    return this.mul(this.mul(this.add(this.unary("Erf", this.div(x, Math.SQRT2)), 1), x), 0.5);
  }

  /** NumPy matmul (rank ≥ 2 operands; batch axes broadcast). */
  matmul(a: Sym, b: Sym): Sym {
    if (a.shape.length < 2 || b.shape.length < 2) throw new Error(`MatMul: operands must have rank ≥ 2, got [${a.shape}] and [${b.shape}]`);
    const [m, k] = a.shape.slice(-2) as [number, number];
    const [k2, n] = b.shape.slice(-2) as [number, number];
    if (k !== k2) throw new Error(`MatMul: inner sizes differ, [${a.shape}] @ [${b.shape}]`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "MatMul");
    return this.node("MatMul", [a.name, b.name], [...batch, m, n]);
  }

  reshape(a: Sym, shape: readonly number[]): Sym {
    const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
    if (size(a.shape) !== size(shape)) throw new Error(`Reshape: cannot reshape [${a.shape}] to [${shape}]`);
    if (sameShape(a.shape, shape)) return a;
    return this.node("Reshape", [a.name, this.int64(shape)], shape);
  }

  transpose(a: Sym, perm: readonly number[]): Sym {
    if (perm.length !== a.shape.length) throw new Error(`Transpose: perm [${perm}] for rank ${a.shape.length}`);
    return this.node("Transpose", [a.name], perm.map((p) => a.shape[p]!), { perm: [...perm] });
  }

  /** `a[..., start:end, ...]` on one axis. */
  slice(a: Sym, axis: number, start: number, end: number): Sym {
    const ax = normAxis(axis, a.shape.length, "Slice");
    if (start < 0 || end > a.shape[ax]! || start >= end) throw new Error(`Slice: [${start}, ${end}) out of range for axis ${ax} of [${a.shape}]`);
    if (start === 0 && end === a.shape[ax]) return a;
    const shape = [...a.shape];
    shape[ax] = end - start;
    return this.node("Slice", [a.name, this.int64([start]), this.int64([end]), this.int64([ax])], shape);
  }

  concat(parts: readonly Sym[], axis: number): Sym {
    if (parts.length === 1) return parts[0]!;
    const rank = parts[0]!.shape.length;
    const ax = normAxis(axis, rank, "Concat");
    const shape = [...parts[0]!.shape];
    shape[ax] = 0;
    for (const p of parts) {
      if (p.shape.length !== rank || p.shape.some((d, i) => i !== ax && d !== parts[0]!.shape[i])) {
        throw new Error(`Concat: [${p.shape}] does not match [${parts[0]!.shape}] off axis ${ax}`);
      }
      shape[ax] += p.shape[ax]!;
    }
    return this.node("Concat", parts.map((p) => p.name), shape, { axis: ax });
  }

  /** Broadcasts `a` to `shape` (NumPy rules). */
  expand(a: Sym, shape: readonly number[]): Sym {
    const out = broadcastShapes(a.shape, shape, "Expand");
    if (!sameShape(out, shape)) throw new Error(`Expand: [${a.shape}] does not broadcast to [${shape}]`);
    if (sameShape(a.shape, shape)) return a;
    return this.node("Expand", [a.name, this.int64(shape)], shape);
  }

  private reduce(op: "ReduceMean" | "ReduceSum", a: Sym, axis: number): Sym {
    const ax = normAxis(axis, a.shape.length, op);
    const shape = [...a.shape];
    shape[ax] = 1;
    // opset 17: ReduceMean takes axes as an attribute, ReduceSum (since 13) as an input
    if (op === "ReduceMean") return this.node(op, [a.name], shape, { axes: [ax], keepdims: 1 });
    return this.node(op, [a.name, this.int64([ax])], shape, { keepdims: 1 });
  }

  /** Mean over one axis, kept as size 1. */
  mean(a: Sym, axis: number): Sym {
    return this.reduce("ReduceMean", a, axis);
  }

  /** Sum over one axis, kept as size 1. */
  sum(a: Sym, axis: number): Sym {
    return this.reduce("ReduceSum", a, axis);
  }

  softmax(a: Sym, axis: number): Sym {
    return this.node("Softmax", [a.name], a.shape, { axis: normAxis(axis, a.shape.length, "Softmax") });
  }

  /** Layer norm over the last axis (`(x − mean) / √(var + eps) · w (+ b)`, biased variance). */
  layerNorm(x: Sym, weight: Sym, bias: Sym | undefined, eps: number): Sym {
    const d = x.shape[x.shape.length - 1]!;
    if (!sameShape(weight.shape, [d])) throw new Error(`LayerNormalization: weight [${weight.shape}] for width ${d}`);
    const ins = [x.name, weight.name, ...(bias ? [bias.name] : [])];
    return this.node("LayerNormalization", ins, x.shape, { axis: -1, epsilon: eps });
  }

  /**
   * Multi-head attention without a mask: q, k, v [b, n, d] (heads side by side in d), `softmax(q kᵀ · scale) v` per
   * head, returned as [b, n, d]. ONNX Runtime's contrib `com.microsoft.MultiHeadAttention` (one fused CPU kernel:
   * no head transposes, no separate softmax pass).
   */
  multiHeadAttention(q: Sym, k: Sym, v: Sym, heads: number, scale: number): Sym {
    if (!sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape) || q.shape.length !== 3) throw new Error(`MultiHeadAttention: q, k, v must be one [b, n, d] shape, got [${q.shape}], [${k.shape}], [${v.shape}]`);
    return this.node("MultiHeadAttention", [q.name, k.name, v.name], q.shape, { num_heads: heads, scale }, "com.microsoft");
  }

  /** The graph as ONNX `ModelProto` bytes. */
  encode(producer = "wildrayzer"): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      opsetImport: [
        onnx.OperatorSetIdProto.create({ domain: "", version: ONNX_OPSET }),
        ...(this.usesMicrosoftOps ? [onnx.OperatorSetIdProto.create({ domain: "com.microsoft", version: 1 })] : []),
      ],
      graph: onnx.GraphProto.create({ name: "main", node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
