// Where a quarantined message's bytes live: a file beside the index (one appliance), or rows in
// the shared database (several appliances, so that any node can show and release any message).
// Either way the bytes are durable before the index row that points at them is committed.
import { copyFile, mkdir, mkdtemp, open, rename, rm, unlink } from 'node:fs/promises';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely, Transaction } from 'kysely';
import type { QuarantineTables } from '../storage/quarantine-db.js';
import type { SharedTables } from '../storage/shared-schema.js';
import { utcDay } from '../time/utc.js';

/** What a body store needs of an index row. */
export interface BodyRef {
  id: string;
  path: string;
}

/** A file holding the message for a reader that needs one (spamd's TELL, the MIME viewer). */
export interface LocalFile {
  path: string;
  /** Removes the file when it was a copy. */
  done(): Promise<void>;
}

export interface MessageBodies {
  /** Makes the bytes durable before the row exists; says where they are (the row's path). */
  keep(spoolPath: string, id: string, receivedAt: Date): Promise<string>;
  /** Writes what must commit together with the row. */
  keepWithRow(trx: Transaction<QuarantineTables>, id: string, spoolPath: string): Promise<void>;
  /** Removes what keep() made, when the row could not be written. */
  discard(path: string): Promise<void>;
  open(ref: BodyRef): Readable;
  /** After the row is gone: a file without a row is harmless, a row without its bytes is not. */
  remove(ref: BodyRef): Promise<void>;
  localFile(ref: BodyRef): Promise<LocalFile>;
  /** The file itself, where there is one (tests and tools of a single appliance). */
  filePath(ref: BodyRef): string;
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** One file per message under <quarantine>/messages/<day>/, fsync'd with its folder. */
export function fileBodies(quarantineDir: string): MessageBodies {
  const full = (ref: BodyRef) => join(quarantineDir, ref.path);
  return {
    async keep(spoolPath, id, receivedAt) {
      const dayDir = join(quarantineDir, 'messages', utcDay(receivedAt));
      const created = await mkdir(dayDir, { recursive: true, mode: 0o750 });
      const finalPath = join(dayDir, `${id}.eml`);
      const tempPath = `${finalPath}.tmp`;
      try {
        await copyFile(spoolPath, tempPath, constants.COPYFILE_EXCL);
        await fsyncPath(tempPath);
        await rename(tempPath, finalPath);
      } catch (err) {
        await unlink(tempPath).catch(() => undefined);
        throw err;
      }
      await fsyncPath(dayDir);
      if (created) await fsyncPath(dirname(dayDir));
      return relative(quarantineDir, finalPath);
    },
    keepWithRow: () => Promise.resolve(),
    discard: (path) => rm(join(quarantineDir, path), { force: true }),
    open: (ref) => createReadStream(full(ref)),
    remove: (ref) => rm(full(ref), { force: true }),
    localFile: (ref) => Promise.resolve({ path: full(ref), done: () => Promise.resolve() }),
    filePath: full,
  };
}

const CHUNK_BYTES = 1024 * 1024;

/**
 * The message in the shared database, in 1 MB rows written in the row's own transaction: read
 * from the spool file a chunk at a time, never whole in memory.
 */
export function databaseBodies(db: Kysely<SharedTables>): MessageBodies {
  const chunksOf = (ref: BodyRef) =>
    Readable.from(
      (async function* () {
        for (let seq = 0; ; seq++) {
          const row = await db.selectFrom('message_chunks').select('data').where('message_id', '=', ref.id).where('seq', '=', seq).executeTakeFirst();
          if (!row) return;
          yield row.data;
        }
      })(),
    );
  return {
    keep: () => Promise.resolve(''),
    async keepWithRow(trx, id, spoolPath) {
      const shared = trx as unknown as Transaction<SharedTables>;
      let seq = 0;
      for await (const chunk of createReadStream(spoolPath, { highWaterMark: CHUNK_BYTES })) {
        await shared
          .insertInto('message_chunks')
          .values({ message_id: id, seq: seq++, data: chunk as Buffer })
          .execute();
      }
    },
    discard: () => Promise.resolve(),
    open: chunksOf,
    // The rows go with the message's (ON DELETE CASCADE).
    remove: () => Promise.resolve(),
    async localFile(ref) {
      const dir = await mkdtemp(join(tmpdir(), 'mailfilter-held-'));
      const path = join(dir, `${ref.id.replace(/[^A-Za-z0-9._-]/g, '_')}.eml`);
      const done = () => rm(dir, { recursive: true, force: true });
      try {
        await pipeline(chunksOf(ref), createWriteStream(path, { mode: 0o600 }));
      } catch (err) {
        await done();
        throw err;
      }
      return { path, done };
    },
    filePath() {
      throw new Error('the quarantined message is in the shared database, not in a file');
    },
  };
}
