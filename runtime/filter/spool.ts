// Incoming DATA goes straight to a spool file: a message is never held whole in memory.
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';

export function spoolPath(spoolDir: string, id: string): string {
  return join(spoolDir, `${id}.eml`);
}

/** Messages up to this size are also kept in memory, so the filter need not read them back. */
export const IN_MEMORY_BYTES = 64 * 1024;

export interface Spooled {
  size: number;
  /** The whole message, when it is small (at most IN_MEMORY_BYTES); large ones are only on disk. */
  bytes: Buffer | null;
}

export async function spoolMessage(stream: Readable, path: string): Promise<Spooled> {
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  let kept: Buffer[] | null = [];
  let keptBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (kept) {
        keptBytes += chunk.length;
        if (keptBytes <= IN_MEMORY_BYTES) kept.push(chunk);
        else kept = null;
      }
      done(null, chunk);
    },
  });
  await pipeline(stream, tap, out);
  return { size: out.bytesWritten, bytes: kept ? Buffer.concat(kept, keptBytes) : null };
}

/** The scan removes its own folder of unpacked parts; only the message file is left to remove. */
export async function removeSpooled(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** At start-up: whatever is left was never answered 250, so Postfix still has it and will retry. */
export async function prepareSpoolDir(spoolDir: string): Promise<number> {
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });
  const leftovers = await readdir(spoolDir);
  await Promise.all(leftovers.map((name) => rm(join(spoolDir, name), { recursive: true, force: true })));
  return leftovers.length;
}
