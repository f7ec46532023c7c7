// The one decoder layer: lists the files inside every container we open (zip, gzip, bzip2, tar in
// Node; RAR, and 7z, CAB, LZH first, through bsdtar; ISO/UDF, disk images, ARJ, xz, zstd and what
// bsdtar could not read through 7-Zip; TNEF), with each
// file's first bytes, pulling every decoded byte through the message's budget. A file that is itself
// a container is kept on disk so the caller can open it one level deeper.
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import yauzl from 'yauzl';
import bz2 from 'unbzip2-stream';
import { MAGIC_BYTES } from './mime-walk.js';
import type { InspectionBudget } from './budget.js';
import { containerKind, mayBeOpticalImage, sniffDeep, SEVEN_ZIP_KINDS, type ContainerKind, type SevenZipKind } from './container-kind.js';
import { firstBytes, unpackWith7zz } from './seven-zip.js';
import { listNamesWithBsdtar, streamAsTar, whyBsdtarFailed } from './libarchive.js';
import { encryptedRarMembers } from './rar-headers.js';
import { parseTnef } from './tnef.js';
import { DecodeError } from './decode-error.js';

export { containerKind, type ContainerKind } from './container-kind.js';

export interface Nested {
  kind: ContainerKind;
  path: string;
  /** False for a weak guess (a disk image by its boot sector): failing to open it is no finding. */
  sure: boolean;
}

export interface ContainerEntry {
  name: string;
  magic: Buffer;
  /** Set when the entry is itself a container; its decoded content is at `path`. */
  nested?: Nested;
  /** The entry could not be read (encrypted member, damaged data): only its name is known. */
  unreadable?: string;
}

/** Whether a file with these first bytes is worth keeping on disk to open or type it further. */
export function isContainer(name: string, magic: Buffer, contentType = ''): boolean {
  return containerKind(name, magic, contentType) !== null;
}

/** The nested container at `path`, looking past the first bytes where a format's signature is deep. */
export function nestedAt(path: string, name: string, magic: Buffer, contentType = ''): Nested | undefined {
  const guess = containerKind(name, magic, contentType);
  if (!guess) return undefined;
  if (guess.kind === 'iso' && !guess.sure) {
    const deep = sniffDeep(path);
    return deep ? { kind: deep, path, sure: true } : undefined;
  }
  return { kind: guess.kind, path, sure: guess.sure };
}

/** Pulls bytes from a stream on demand, charging every byte to the budget. */
class ByteReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(
    stream: Readable,
    private readonly budget: InspectionBudget,
  ) {
    this.iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.budget.takeBytes(next.value.length);
    this.pending = this.pending.length ? Buffer.concat([this.pending, next.value]) : next.value;
    return true;
  }

  /** Up to `count` bytes; fewer only at the end of the stream. */
  async read(count: number): Promise<Buffer> {
    while (this.pending.length < count && (await this.fill()));
    const out = this.pending.subarray(0, count);
    this.pending = this.pending.subarray(out.length);
    return out;
  }

  /** Puts bytes back in front, as if they had not been read yet. */
  unread(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([chunk, this.pending]) : chunk;
  }

  /** Hands the next `count` bytes (or all that remain, when count is Infinity) to `sink`. */
  async forward(count: number, sink: (chunk: Buffer) => Promise<void> | void): Promise<void> {
    let left = count;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill())) return;
      const chunk = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(chunk.length);
      left -= chunk.length;
      await sink(chunk);
    }
  }

  close(): void {
    void this.iterator.return?.();
  }
}

interface ListContext {
  budget: InspectionBudget;
  tempDir: string;
  /** Unique temp names within one message. */
  nextTempName: () => string;
  /** True for a name that alone decides the verdict (a banned extension): its archive is not unpacked further. */
  nameDecides?: (name: string) => boolean;
}

async function spillRest(reader: ByteReader, first: Buffer, count: number, context: ListContext): Promise<string> {
  const path = join(context.tempDir, context.nextTempName());
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  const write = async (chunk: Buffer) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  try {
    await write(first);
    await reader.forward(count, write);
  } finally {
    out.end();
    await once(out, 'close');
  }
  return path;
}

/** Reads one entry of `size` bytes (Infinity: to the end): magic, plus a spill when it is a container. */
async function readEntry(reader: ByteReader, name: string, size: number, context: ListContext): Promise<ContainerEntry> {
  const magic = await reader.read(Math.min(MAGIC_BYTES, size));
  const rest = size - magic.length;
  if (isContainer(name, magic) || mayBeOpticalImage(magic)) {
    const path = await spillRest(reader, magic, rest, context);
    const nested = nestedAt(path, name, magic);
    return nested ? { name, magic, nested } : { name, magic };
  }
  await reader.forward(rest, () => undefined);
  return { name, magic };
}

function octal(field: Buffer): number {
  const textValue = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return textValue === '' ? 0 : parseInt(textValue, 8);
}

async function listTar(reader: ByteReader, context: ListContext): Promise<ContainerEntry[]> {
  const entries: ContainerEntry[] = [];
  let longName: string | null = null;
  for (;;) {
    const header = await reader.read(512);
    if (header.length < 512 || header.every((b) => b === 0)) break;
    const size = octal(header.subarray(124, 136));
    if (!Number.isFinite(size) || size < 0) throw new Error('corrupt tar header');
    const type = String.fromCharCode(header[156] ?? 0);
    const padding = (512 - (size % 512)) % 512;
    const prefix = header.toString('latin1', 257, 262) === 'ustar' ? header.toString('utf8', 345, 500).replace(/\0.*$/s, '') : '';
    let name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    if (prefix) name = `${prefix}/${name}`;
    if (type === 'L' || type === 'x') {
      // GNU long name / pax extended header: the real name of the next entry.
      const data = (await reader.read(Math.min(size, 65536))).toString('utf8');
      await reader.forward(size - Math.min(size, 65536) + padding, () => undefined);
      longName = type === 'L' ? data.replace(/\0.*$/s, '') : (/(?:^|\n)\d+ path=([^\n]*)\n/.exec(data)?.[1] ?? longName);
      continue;
    }
    if (longName) name = longName;
    longName = null;
    if (type === '0' || type === '\0' || type === '7') {
      context.budget.takeEntry();
      entries.push(await readEntry(reader, name, size, context));
    } else {
      await reader.forward(size, () => undefined);
    }
    await reader.forward(padding, () => undefined);
  }
  return entries;
}

async function listCompressed(stream: Readable, innerName: string, context: ListContext): Promise<ContainerEntry[]> {
  const reader = new ByteReader(stream, context.budget);
  try {
    const magic = await reader.read(MAGIC_BYTES);
    if (containerKind('', magic)?.kind === 'tar') {
      reader.unread(magic);
      return await listTar(reader, context);
    }
    context.budget.takeEntry();
    reader.unread(magic);
    return [await readEntry(reader, innerName, Infinity, context)];
  } finally {
    reader.close();
    stream.destroy();
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true, strictFileNames: false, validateEntrySizes: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

async function listZip(path: string, context: ListContext): Promise<ContainerEntry[]> {
  const zip = await openZip(path);
  const entries: ContainerEntry[] = [];
  try {
    for (;;) {
      const entryPromise = new Promise<yauzl.Entry | null>((resolve, reject) => {
        zip.once('entry', resolve);
        zip.once('end', () => resolve(null));
        zip.once('error', reject);
      });
      zip.readEntry();
      const entry = await entryPromise;
      zip.removeAllListeners('entry');
      zip.removeAllListeners('end');
      zip.removeAllListeners('error');
      if (!entry) break;
      if (entry.fileName.endsWith('/')) continue;
      context.budget.takeEntry();
      if (entry.generalPurposeBitFlag & 0x1) {
        entries.push({ name: entry.fileName, magic: Buffer.alloc(0), unreadable: 'encrypted' });
        continue;
      }
      const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
      stream.on('error', () => undefined);
      const reader = new ByteReader(stream, context.budget);
      try {
        entries.push(await readEntry(reader, entry.fileName, Infinity, context));
      } finally {
        reader.close();
        stream.destroy();
      }
    }
  } finally {
    zip.close();
  }
  return entries;
}

/** Files unpacked by 7-Zip, typed by their first bytes; the containers among them stay where they are. */
async function list7zz(path: string, kind: SevenZipKind, innerName: string, context: ListContext): Promise<ContainerEntry[]> {
  // Single-stream formats list their one file without a name: it is the archive's name less the suffix.
  const single = kind === 'xz' || kind === 'zstd';
  const decides = context.nameDecides ?? (() => false);
  const { files, problem, byNameOnly } = await unpackWith7zz(path, kind, context.tempDir, context.nextTempName(), context.budget, (name) =>
    decides(single && !name ? innerName : name),
  );
  const entries: ContainerEntry[] = problem ? [restOfArchive(problem)] : [];
  for (const file of files) {
    const name = files.length === 1 && single ? innerName : file.name;
    if (byNameOnly) {
      entries.push({ name, magic: Buffer.alloc(0) });
      continue;
    }
    if (!file.path) {
      entries.push({ name, magic: Buffer.alloc(0), unreadable: file.encrypted ? 'encrypted' : 'damaged, could not be unpacked' });
      continue;
    }
    const magic = await firstBytes(file.path, MAGIC_BYTES);
    const nested = nestedAt(file.path, name, magic);
    entries.push(nested ? { name, magic, nested } : { name, magic });
  }
  return entries;
}

const restOfArchive = (why: string): ContainerEntry => ({ name: '(rest of the archive)', magic: Buffer.alloc(0), unreadable: why });

/** Formats bsdtar reads in one run; RAR only it can. */
const BSDTAR_KINDS: ReadonlySet<string> = new Set(['rar', '7z', 'cab', 'lzh']);

/**
 * One bsdtar run turns the archive into a tar stream, read like any tar. When bsdtar fails (an
 * encrypted member, a codec it lacks, damage), 7-Zip lists and unpacks instead; a RAR, which 7-Zip
 * cannot read here, keeps the names bsdtar can still list, each unreadable.
 */
async function listWithBsdtar(path: string, kind: SevenZipKind, innerName: string, context: ListContext): Promise<ContainerEntry[]> {
  const decoder = streamAsTar(path, context.tempDir, context.budget);
  const reader = new ByteReader(decoder.stdout, context.budget);
  let entries: ContainerEntry[];
  try {
    entries = await listTar(reader, context);
    await reader.forward(Infinity, () => undefined);
  } catch (err) {
    decoder.stop();
    throw err;
  } finally {
    reader.close();
  }
  const { code, stderr } = await decoder.done;
  // libarchive reads an archive cut short before its first file as an empty one, and says nothing.
  if (code === 0 && entries.length > 0) {
    if (kind !== 'rar') return entries;
    const encrypted = await encryptedRarMembers(path, context.budget.remaining().entries + 16);
    return encrypted > 0 ? [...entries, restOfArchive(`${encrypted === Infinity ? 'every' : encrypted} member(s) encrypted`)] : entries;
  }
  const why = code === 0 ? 'no file could be read (truncated, or empty)' : whyBsdtarFailed(stderr);
  if (kind !== 'rar') {
    try {
      return await list7zz(path, kind, innerName, context);
    } catch (err) {
      if (!(err instanceof DecodeError) || entries.length === 0) throw err;
      return [...entries, restOfArchive(err.message)];
    }
  }
  const listed = await listNamesWithBsdtar(path, context.tempDir, context.budget);
  const read = new Set(entries.map((e) => e.name));
  const unread = listed.names.filter((name) => !read.has(name));
  if (entries.length === 0 && unread.length === 0) throw new DecodeError(/encrypted/.test(why) ? 'encrypted, names hidden' : why);
  for (const _ of unread) context.budget.takeEntry();
  return [
    ...entries,
    ...unread.map((name): ContainerEntry => ({ name, magic: Buffer.alloc(0), unreadable: why })),
    ...(listed.problem ? [restOfArchive(listed.problem)] : []),
  ];
}

/** The files a TNEF (winmail.dat) wraps; those that are containers are written out to be opened. */
async function listTnef(path: string, context: ListContext): Promise<ContainerEntry[]> {
  const entries: ContainerEntry[] = [];
  for (const attachment of parseTnef(await readFile(path))) {
    context.budget.takeEntry();
    const magic = attachment.data.subarray(0, MAGIC_BYTES);
    if (!isContainer(attachment.name, magic) && !mayBeOpticalImage(magic)) {
      entries.push({ name: attachment.name, magic });
      continue;
    }
    context.budget.takeBytes(attachment.data.length);
    const spilled = join(context.tempDir, context.nextTempName());
    await writeFile(spilled, attachment.data, { flag: 'wx', mode: 0o600 });
    const nested = nestedAt(spilled, attachment.name, magic);
    entries.push(nested ? { name: attachment.name, magic, nested } : { name: attachment.name, magic });
  }
  return entries;
}

export type ListableKind = Exclude<ContainerKind, 'message' | 'ole'>;

/** Lists one container's files; throws InspectionLimitError when the budget runs out, DecodeError when it cannot be read. */
export async function listContainer(path: string, kind: ListableKind, outerName: string, context: ListContext): Promise<ContainerEntry[]> {
  const inner = basename(outerName)
    .replace(/\.(gz|bz2|xz|zst)$/i, '')
    .replace(/\.t(gz|bz2?|xz|zst)$/i, '.tar');
  if (BSDTAR_KINDS.has(kind)) return listWithBsdtar(path, kind as SevenZipKind, inner, context);
  if ((SEVEN_ZIP_KINDS as readonly string[]).includes(kind)) return list7zz(path, kind as SevenZipKind, inner, context);
  switch (kind) {
    case 'tnef':
      return listTnef(path, context);
    case 'zip':
      return listZip(path, context);
    case 'gzip':
      return listCompressed(createReadStream(path).pipe(createGunzip()), inner, context);
    case 'bzip2': {
      // unbzip2-stream is an old-style stream: bridge it into a real Readable.
      const decoded = new PassThrough();
      const decoder = bz2();
      decoder.on('error', (err: Error) => decoded.destroy(err));
      createReadStream(path).pipe(decoder).pipe(decoded);
      return listCompressed(decoded, inner, context);
    }
    case 'tar': {
      const stream = createReadStream(path);
      const reader = new ByteReader(stream, context.budget);
      try {
        return await listTar(reader, context);
      } finally {
        reader.close();
        stream.destroy();
      }
    }
    default:
      throw new DecodeError(`no decoder for ${kind}`);
  }
}

export type { ListContext };
