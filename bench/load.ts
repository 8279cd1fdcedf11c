/**
 * How busy the rest of the machine is, from Linux's /proc/stat: benchmarks on shared machines report the cores
 * other processes kept busy while they were timed, and the runner can wait for a quiet machine before a case.
 * Engine-free (no jax-js import). Everything returns null where /proc/stat does not exist.
 */
import { readFileSync } from "node:fs";

/** Busy CPU seconds of the whole host since boot (all cores; everything but idle and iowait), or null. */
export function hostBusySeconds(): number | null {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields; // in USER_HZ = 1/100 s
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return null;
  }
}

/**
 * Starts a probe; calling the result returns the cores that other processes kept busy since then (host busy time
 * minus this process's own CPU time, all its threads included, over the wall time), or null.
 */
export function startLoadProbe(): () => number | null {
  const host0 = hostBusySeconds();
  const own0 = process.cpuUsage(); // µs
  const t0 = performance.now();
  return () => {
    const host1 = hostBusySeconds();
    if (host0 === null || host1 === null) return null;
    const own = process.cpuUsage(own0);
    const wall = (performance.now() - t0) / 1000;
    return Math.max(0, (host1 - host0 - (own.user + own.system) / 1e6) / wall);
  };
}
