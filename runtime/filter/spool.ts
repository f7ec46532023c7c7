// Incoming DATA goes straight to a spool file: a message is never held whole in memory.
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

/** Sortable by time, unique enough to name files and quarantine entries: 20261124T171500-3f9a0c1b2d. */
export function newMessageId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(5).toString('hex')}`;
}

export function spoolPath(spoolDir: string, id: string): string {
  return join(spoolDir, `${id}.eml`);
}

export async function spoolMessage(stream: Readable, path: string): Promise<number> {
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  await pipeline(stream, out);
  return out.bytesWritten;
}

export async function removeSpooled(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.d`, { recursive: true, force: true });
}

/** At start-up: whatever is left was never answered 250, so Postfix still has it and will retry. */
export async function prepareSpoolDir(spoolDir: string): Promise<number> {
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });
  const leftovers = await readdir(spoolDir);
  await Promise.all(leftovers.map((name) => rm(join(spoolDir, name), { recursive: true, force: true })));
  return leftovers.length;
}
