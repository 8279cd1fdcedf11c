/**
 * Plain-number linear algebra for cameras: 3-vectors, 3×3 and 4×4 matrices stored row-major in `number[]`
 * (`m[4 * row + col]` for a 4×4). Used where arrays would be overkill: the ray caster of the synthetic data, pose
 * metrics, camera paths and the viewer. Everything is float64 and allocates small new arrays; nothing mutates
 * its inputs. Camera matrices follow `cameras.ts` (OpenCV c2w).
 */

/** A 3-vector. */
export type Vec3 = [number, number, number];
/** A 3×3 matrix, row-major (9 numbers). */
export type Mat3 = number[];
/** A 4×4 matrix, row-major (16 numbers). */
export type Mat4 = number[];

export function add3(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

export function sub3(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function scale3(a: Readonly<Vec3>, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}

export function dot3(a: Readonly<Vec3>, b: Readonly<Vec3>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross3(a: Readonly<Vec3>, b: Readonly<Vec3>): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function norm3(a: Readonly<Vec3>): number {
  return Math.hypot(a[0], a[1], a[2]);
}

/** `a / |a|`; throws on a zero vector (a caller bug: there is no direction to keep). */
export function normalize3(a: Readonly<Vec3>): Vec3 {
  const n = norm3(a);
  if (n === 0) throw new Error("normalize3: zero vector");
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** `(1 − s)·a + s·b`. */
export function lerp3(a: Readonly<Vec3>, b: Readonly<Vec3>, s: number): Vec3 {
  return [a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1]), a[2] + s * (b[2] - a[2])];
}

export function mat3Identity(): Mat3 {
  return [1, 0, 0, 0, 1, 0, 0, 0, 1];
}

/** `a · b` for 3×3 matrices. */
export function mat3Mul(a: readonly number[], b: readonly number[]): Mat3 {
  const out: Mat3 = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[3 * i + j] = a[3 * i]! * b[j]! + a[3 * i + 1]! * b[3 + j]! + a[3 * i + 2]! * b[6 + j]!;
    }
  }
  return out;
}

export function mat3Transpose(a: readonly number[]): Mat3 {
  return [a[0]!, a[3]!, a[6]!, a[1]!, a[4]!, a[7]!, a[2]!, a[5]!, a[8]!];
}

/** `a · v` for a 3×3 matrix. */
export function mat3MulVec(a: readonly number[], v: Readonly<Vec3>): Vec3 {
  return [
    a[0]! * v[0] + a[1]! * v[1] + a[2]! * v[2],
    a[3]! * v[0] + a[4]! * v[1] + a[5]! * v[2],
    a[6]! * v[0] + a[7]! * v[1] + a[8]! * v[2],
  ];
}

/** Determinant of a 3×3 matrix. */
export function mat3Det(a: readonly number[]): number {
  return dot3([a[0]!, a[1]!, a[2]!], cross3([a[3]!, a[4]!, a[5]!], [a[6]!, a[7]!, a[8]!]));
}

/** The 3×3 matrix whose columns are `c0, c1, c2`. */
export function mat3FromColumns(c0: Readonly<Vec3>, c1: Readonly<Vec3>, c2: Readonly<Vec3>): Mat3 {
  return [c0[0], c1[0], c2[0], c0[1], c1[1], c2[1], c0[2], c1[2], c2[2]];
}

export function mat4Identity(): Mat4 {
  return [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
}

/** `a · b` for 4×4 matrices. */
export function mat4Mul(a: readonly number[], b: readonly number[]): Mat4 {
  const out: Mat4 = new Array<number>(16).fill(0);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[4 * i + k]! * b[4 * k + j]!;
      out[4 * i + j] = s;
    }
  }
  return out;
}

/** The rotation block R (upper-left 3×3) of a 4×4 matrix. */
export function mat4Rotation(m: readonly number[]): Mat3 {
  return [m[0]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!, m[10]!];
}

/** The translation column t of a 4×4 matrix (the camera centre for a c2w). */
export function mat4Translation(m: readonly number[]): Vec3 {
  return [m[3]!, m[7]!, m[11]!];
}

/** `[R t; 0 0 0 1]`. */
export function mat4FromRt(r: readonly number[], t: Readonly<Vec3>): Mat4 {
  return [r[0]!, r[1]!, r[2]!, t[0], r[3]!, r[4]!, r[5]!, t[1], r[6]!, r[7]!, r[8]!, t[2], 0, 0, 0, 1];
}

/** Inverse of a rigid transform `[R t; 0 1]`: `[Rᵀ −Rᵀt; 0 1]` (exact for orthonormal R; c2w ↔ w2c). */
export function rigidInverse(m: readonly number[]): Mat4 {
  const rt = mat3Transpose(mat4Rotation(m));
  return mat4FromRt(rt, scale3(mat3MulVec(rt, mat4Translation(m)), -1));
}

/** `m · [p, 1]` (a point: rotated and translated). */
export function transformPoint(m: readonly number[], p: Readonly<Vec3>): Vec3 {
  return add3(mat3MulVec(mat4Rotation(m), p), mat4Translation(m));
}

/** `m · [d, 0]` (a direction: rotated only). */
export function transformDir(m: readonly number[], d: Readonly<Vec3>): Vec3 {
  return mat3MulVec(mat4Rotation(m), d);
}

/**
 * An OpenCV camera-to-world matrix for a camera at `eye` looking at `target`. `up` is the world direction that
 * should appear upwards in the image, i.e. along the camera's −y; the default `[0, −1, 0]` (an OpenCV-style world,
 * y down) makes `lookAt([0,0,0], [0,0,1])` the identity. Axes: z = normalize(target − eye), x = normalize(z × up),
 * y = z × x. Throws when `up` is parallel to the viewing direction.
 */
export function lookAt(eye: Readonly<Vec3>, target: Readonly<Vec3>, up: Readonly<Vec3> = [0, -1, 0]): Mat4 {
  const z = normalize3(sub3(target, eye));
  const side = cross3(z, up);
  if (norm3(side) < 1e-12 * norm3(up)) throw new Error("lookAt: up is parallel to the viewing direction");
  const x = normalize3(side);
  const y = cross3(z, x);
  return mat4FromRt(mat3FromColumns(x, y, z), eye);
}
