// The lines a log gained since the last read, by inode and offset. After a rotation (logrotate
// renames mail.log to mail.log.1 and rsyslog opens a new one) the rest of the old file is read
// from the rotated name first; a file shorter than the offset was truncated and is read anew.
import { open, stat } from 'node:fs/promises';

export interface LogCursor {
  inode: number;
  offset: number;
}

const CHUNK = 1 << 20;

async function inodeOf(path: string): Promise<{ inode: number; size: number } | undefined> {
  try {
    const info = await stat(path);
    return { inode: info.ino, size: info.size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Calls onLine for each whole line from `offset`; returns the offset after the last one read.
 * A last line without its newline is left for the next read unless `toEnd` (a rotated file, done).
 */
async function readLines(path: string, offset: number, toEnd: boolean, onLine: (line: string) => void): Promise<number> {
  const handle = await open(path, 'r');
  try {
    let position = offset;
    let carry = Buffer.alloc(0);
    const buffer = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position + carry.length);
      if (bytesRead === 0) break;
      let data = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
      let newline: number;
      while ((newline = data.indexOf(0x0a)) >= 0) {
        onLine(data.subarray(0, newline).toString('utf8'));
        position += newline + 1;
        data = data.subarray(newline + 1);
      }
      carry = Buffer.from(data);
    }
    if (toEnd && carry.length > 0) {
      onLine(carry.toString('utf8'));
      position += carry.length;
    }
    return position;
  } finally {
    await handle.close();
  }
}

/** Reads what `logPath` gained since `cursor` (everything when there is none); the new cursor. */
export async function readNewLines(logPath: string, cursor: LogCursor | undefined, onLine: (line: string) => void): Promise<LogCursor | undefined> {
  const current = await inodeOf(logPath);
  if (!current) return cursor;
  let offset = 0;
  if (cursor && cursor.inode === current.inode) {
    offset = cursor.offset <= current.size ? cursor.offset : 0;
  } else if (cursor) {
    const rotated = await inodeOf(`${logPath}.1`);
    if (rotated?.inode === cursor.inode) await readLines(`${logPath}.1`, Math.min(cursor.offset, rotated.size), true, onLine);
  }
  return { inode: current.inode, offset: await readLines(logPath, offset, false, onLine) };
}
