/**
 * The 3-D view of the cameras (three.js): each estimated camera as a wireframe frustum (apex at the camera centre,
 * image rectangle at a depth sized to the rig), inputs in orange, the in-between frames in blue, the novel-view
 * path in green with the view on screen in white. Cameras are OpenCV c2w (x right, y down, z forward); the view
 * shows them with y up (world flipped about x). Drag to orbit, wheel to zoom. Falls back to three's SVG renderer
 * where the browser has no WebGL.
 */
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { SVGRenderer } from "three/examples/jsm/renderers/SVGRenderer.js";
import type { Camera } from "../geometry/cameras.ts";
import { mat4Translation, norm3, sub3 } from "../geometry/mat4.ts";

export type CameraSet = { cameras: Camera[]; roles: ("input" | "target")[]; path: Camera[]; current: number; h: number; w: number };

const COLORS = { input: 0xff9a3c, target: 0x4aa8ff, path: 0x3ccf6e, current: 0xffffff };

/** Frustum line segments of `cam` at depth `d` in OpenCV world coordinates (apex → 4 corners, then the rectangle). */
export function frustumSegments(cam: Camera, d: number, h: number, w: number): number[] {
  const [fx, fy, cx, cy] = cam.fxfycxcy;
  const m = cam.c2w;
  const world = (x: number, y: number, z: number) => [0, 1, 2].map((r) => m[4 * r]! * x + m[4 * r + 1]! * y + m[4 * r + 2]! * z + m[4 * r + 3]!);
  const apex = world(0, 0, 0);
  const corners = [[0, 0], [w, 0], [w, h], [0, h]].map(([u, v]) => world(((u! - cx) / fx) * d, ((v! - cy) / fy) * d, d));
  const seg: number[] = [];
  for (let i = 0; i < 4; i++) seg.push(...apex, ...corners[i]!, ...corners[i]!, ...corners[(i + 1) % 4]!);
  // a tick on the top edge marks "up" (image row 0)
  const top = world(((w / 2 - cx) / fx) * d, ((-0.15 * h - cy) / fy) * d, d);
  seg.push(...corners[0]!, ...top, ...top, ...corners[1]!);
  return seg;
}

export type View3d = { show(set: CameraSet): void; setCurrent(i: number): void; dispose(): void; backend: "webgl" | "svg" };

export function createView3d(container: HTMLElement): View3d {
  const width = container.clientWidth || 360;
  const height = container.clientHeight || 300;
  let renderer: THREE.WebGLRenderer | SVGRenderer;
  let backend: "webgl" | "svg" = "webgl";
  try {
    const gl = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    gl.setPixelRatio(Math.min(2, globalThis.devicePixelRatio || 1));
    renderer = gl;
  } catch {
    renderer = new SVGRenderer();
    backend = "svg";
  }
  renderer.setSize(width, height);
  renderer.setClearColor(new THREE.Color(0x14171c), 1);
  container.appendChild(renderer.domElement);
  const scene = new THREE.Scene();
  const world = new THREE.Group();
  world.scale.set(1, -1, -1); // OpenCV (y down, z forward) → three (y up, looking down −z)
  scene.add(world);
  const camera = new THREE.PerspectiveCamera(50, width / height, 0.001, 100);
  camera.position.set(0.4, 0.3, 0.8);
  const controls = new OrbitControls(camera, renderer.domElement as HTMLElement);
  const draw = () => renderer.render(scene, camera);
  controls.addEventListener("change", draw);
  let pathLines: THREE.LineSegments[] = [];
  let last: CameraSet | null = null;
  let depth = 0.1;

  const lines = (segments: number[], color: number) => {
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.Float32BufferAttribute(segments, 3));
    return new THREE.LineSegments(g, new THREE.LineBasicMaterial({ color }));
  };
  const clear = () => {
    for (const o of [...world.children]) {
      world.remove(o);
      if (o instanceof THREE.LineSegments) {
        o.geometry.dispose();
        (o.material as THREE.Material).dispose();
      }
    }
  };

  const view: View3d = {
    backend,
    show(set) {
      last = set;
      clear();
      const centres = set.cameras.map((c) => mat4Translation(c.c2w));
      const mean = [0, 1, 2].map((k) => centres.reduce((a, c) => a + c[k]!, 0) / centres.length) as [number, number, number];
      const spread = Math.max(1e-3, ...centres.map((c) => norm3(sub3(c, mean))));
      depth = spread * 0.35;
      set.cameras.forEach((c, i) => world.add(lines(frustumSegments(c, depth, set.h, set.w), COLORS[set.roles[i]!])));
      pathLines = set.path.map((c, i) => lines(frustumSegments(c, depth * 0.5, set.h, set.w), i === set.current ? COLORS.current : COLORS.path));
      for (const l of pathLines) world.add(l);
      const trail = set.path.flatMap((c, i) => (i === 0 ? [] : [...mat4Translation(set.path[i - 1]!.c2w), ...mat4Translation(c.c2w)]));
      if (trail.length > 0) world.add(lines(trail, COLORS.path));
      // frame everything drawn: look at the box's centre from above and behind the rig, far enough to fit it
      world.updateMatrixWorld(true);
      const box = new THREE.Box3().setFromObject(world);
      const target = box.getCenter(new THREE.Vector3());
      const size = Math.max(1e-3, box.getSize(new THREE.Vector3()).length());
      const dist = (0.55 * size) / Math.tan(((camera.fov / 2) * Math.PI) / 180);
      controls.target.copy(target);
      camera.position.copy(target).add(new THREE.Vector3(0.45, 0.4, 0.8).normalize().multiplyScalar(dist));
      camera.near = dist * 0.01;
      camera.far = dist * 100;
      camera.updateProjectionMatrix();
      controls.update();
      draw();
    },
    setCurrent(i) {
      if (!last) return;
      last.current = i;
      pathLines.forEach((l, j) => (l.material as THREE.LineBasicMaterial).color.setHex(j === i ? COLORS.current : COLORS.path));
      draw();
    },
    dispose() {
      clear();
      controls.dispose();
      if (renderer instanceof THREE.WebGLRenderer) renderer.dispose();
      renderer.domElement.remove();
    },
  };
  draw();
  return view;
}
