// The copy of a message the quarantine keeps: the spooled message itself, or, when there is a
// header to put on top (our Authentication-Results), a file beside it with that header first.
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

export async function writeHeldCopy<T>(spoolPath: string, header: string, keep: (path: string) => Promise<T>): Promise<T> {
  if (header === '') return keep(spoolPath);
  const heldPath = `${spoolPath}.held`;
  try {
    await pipeline(
      Readable.from(
        (async function* () {
          yield Buffer.from(header, 'utf8');
          yield* createReadStream(spoolPath);
        })(),
      ),
      createWriteStream(heldPath, { flags: 'wx', mode: 0o600 }),
    );
    return await keep(heldPath);
  } finally {
    await rm(heldPath, { force: true });
  }
}
