/**
 * The one error type for user mistakes and bad inputs. Its message is a single line that names the file or flag
 * and the problem (`scene.json: frames[3].fxfycxcy must have 4 numbers, got 3`). The CLI prints it without a
 * stack trace and exits with `exitCode` (2 for a usage mistake). Any other thrown error is a bug (exit 1).
 */
export class WildrayzerError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WildrayzerError";
    this.exitCode = options.exitCode ?? 2;
  }
}

/** Throws a `WildrayzerError` (exit 2) with `message` when `condition` is false. */
export function userAssert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new WildrayzerError(message);
}

/** zod issues as one line: `where: path.to.key message; other.key message`. */
export function formatIssues(where: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const parts = issues.map((i) => {
    const path = i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
    return path ? `${path}: ${i.message}` : i.message;
  });
  return `${where}: ${parts.join("; ")}`;
}
