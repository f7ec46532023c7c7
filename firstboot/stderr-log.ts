// While apply runs, what the modules it calls write to stderr (log lines, Node's warnings) goes to
// a log file: the console shows only apply's numbered steps, which must fit 78 columns.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Redirects process.stderr into `logPath` until the returned function is called. */
export function captureStderr(logPath: string): () => void {
  const original = process.stderr.write.bind(process.stderr);
  let usable = true;
  try {
    mkdirSync(dirname(logPath), { recursive: true });
  } catch {
    usable = false;
  }
  if (!usable) return () => undefined;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    try {
      appendFileSync(logPath, chunk);
    } catch {
      // A full disk must not stop apply: the line is lost, apply's own step reports the disk.
    }
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stderr.write;
  return () => {
    process.stderr.write = original;
  };
}
