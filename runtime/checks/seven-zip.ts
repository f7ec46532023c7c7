// Lists and unpacks the formats Node cannot (CAB, ISO/UDF, disk images, ARJ, xz, zstd, and 7z, CAB or
// LZH that bsdtar could not read) with Debian's 7-Zip, run as a decoder process (decoder-process.ts),
// the listing capped at the entry budget. The listing alone decides when a name is banned: then
// nothing is unpacked.
import { mkdir, lstat, open, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { InspectionBudget } from './budget.js';
import { runDecoder, type DecoderRun } from './decoder-process.js';
import type { SevenZipKind } from './container-kind.js';
import { DecodeError } from './decode-error.js';

export const SEVEN_ZIP = process.env.MAILFILTER_7ZZ ?? '7zz';

export interface ListedFile {
  name: string;
  size: number;
  encrypted: boolean;
}

export interface UnpackedFile extends ListedFile {
  /** On disk below the unpack folder; absent when it could not be unpacked (encrypted, damaged). */
  path?: string;
}

const TYPE_SWITCH: Partial<Record<SevenZipKind, string>> = { '7z': '7z', rar: 'rar', cab: 'cab', arj: 'arj', lzh: 'lzh', xz: 'xz', zstd: 'zstd' };
// Any password: 7-Zip then never asks on a terminal, and encrypted names fail to list.
const NO_PASSWORD = '-pmailfilter-has-no-password';
const BYTES_PER_LISTED_ENTRY = 4096;

type Run = DecoderRun;

const run7zz = (args: string[], cwd: string, budget: InspectionBudget, maxOutput: number) => runDecoder(SEVEN_ZIP, args, cwd, budget, maxOutput);

function whyNotOpened(stderr: string): string {
  if (/Wrong password|encrypted archive/i.test(stderr)) return 'encrypted, names hidden';
  if (/Unexpected end|truncated/i.test(stderr)) return 'truncated';
  if (/Unsupported|Can ?not open the file as|is not archive/i.test(stderr)) return 'corrupt, or a format this system cannot decode';
  if (/Headers Error|Data Error|CRC Failed/i.test(stderr)) return 'corrupt';
  return `cannot be decoded (${stderr.replace(/\s+/g, ' ').trim().slice(0, 80) || 'no reason given'})`;
}

/** 7-Zip's technical listing (-slt): one block of "Key = value" lines per entry. */
export function parseListing(stdout: string): ListedFile[] {
  const files: ListedFile[] = [];
  for (const block of stdout.split(/\r?\n\r?\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split(/\r?\n/)) {
      const at = line.indexOf(' = ');
      if (at > 0) fields.set(line.slice(0, at), line.slice(at + 3));
    }
    // Single-stream formats (xz, zstd) list their one file without a path.
    const name = fields.get('Path') ?? (fields.has('Size') ? '' : undefined);
    if (name === undefined) continue;
    if (fields.get('Folder') === '+' || /^D/.test(fields.get('Attributes') ?? '')) continue;
    files.push({ name, size: Number(fields.get('Size')) || 0, encrypted: fields.get('Encrypted') === '+' });
  }
  return files;
}

/** 7-Zip's complaints: stderr, and the lines of stdout that are not part of the listing. */
const complaints = (run: Run) =>
  `${run.stderr}\n${run.stdout
    .split('\n')
    .filter((l) => !l.includes(' = '))
    .join('\n')}`;

export interface Listing {
  files: ListedFile[];
  /** Set when 7-Zip listed only part of a damaged archive: what is missing is not checked. */
  problem?: string;
}

export async function listWith7zz(path: string, kind: SevenZipKind, cwd: string, budget: InspectionBudget): Promise<Listing> {
  const type = TYPE_SWITCH[kind];
  const args = ['l', '-slt', '-ba', '-sccUTF-8', NO_PASSWORD, ...(type ? [`-t${type}`] : []), '--', path];
  const maxOutput = (budget.remaining().entries + 16) * BYTES_PER_LISTED_ENTRY;
  const listed = await run7zz(args, cwd, budget, maxOutput);
  const files = parseListing(listed.stdout);
  if (listed.code === 0) return { files };
  const why = whyNotOpened(complaints(listed));
  if (files.length === 0) throw new DecodeError(why);
  return { files, problem: `${why}, only partly listed` };
}

async function* filesBelow(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // Links are never followed: an archive may carry one pointing anywhere.
    if (entry.isDirectory()) yield* filesBelow(path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * Lists, charges the budget for what the listing says, unpacks into a new folder of `tempDir`, and
 * pairs files with paths. When `nameDecides` is true for a listed name, the archive's verdict is
 * already known and nothing is unpacked: its files come back without paths and `byNameOnly` set.
 */
export async function unpackWith7zz(
  path: string,
  kind: SevenZipKind,
  tempDir: string,
  outName: string,
  budget: InspectionBudget,
  nameDecides: (name: string) => boolean = () => false,
): Promise<Listing & { files: UnpackedFile[]; byNameOnly?: boolean }> {
  const { files, problem } = await listWith7zz(path, kind, tempDir, budget);
  if (files.some((f) => nameDecides(f.name))) {
    for (const _ of files) budget.takeEntry();
    return { files, byNameOnly: true, ...(problem ? { problem } : {}) };
  }
  const outDir = join(tempDir, outName);
  for (const _ of files) budget.takeEntry();
  budget.takeBytes(files.reduce((sum, f) => sum + f.size, 0));
  await mkdir(outDir, { mode: 0o700 });
  const type = TYPE_SWITCH[kind];
  const unpack = await run7zz(
    ['x', '-y', '-bso0', '-bsp0', '-sccUTF-8', NO_PASSWORD, ...(type ? [`-t${type}`] : []), `-o${outDir}`, '--', path],
    outDir,
    budget,
    1 << 20,
  );
  const byName = new Map<string, string>();
  for await (const file of filesBelow(outDir)) {
    if ((await lstat(file)).isFile()) byName.set(relative(outDir, file), file);
  }
  // 7-Zip drops "../" and leading "/" when it writes; match names the same way.
  const unpacked = files.map((f) => ({ ...f, path: byName.get(f.name) ?? byName.get(f.name.replace(/^(\.\.?\/)+|^\/+/g, '').replace(/\/(\.\.\/)+/g, '/')) }));
  // Single-stream formats name their one file after the archive; a lone unpacked file is that file.
  if (files.length === 1 && !unpacked[0]!.path && byName.size === 1) unpacked[0]!.path = [...byName.values()][0];
  if (unpack.code !== 0 && unpacked.every((f) => !f.path && !f.encrypted)) throw new DecodeError(whyNotOpened(complaints(unpack)));
  return problem ? { files: unpacked, problem } : { files: unpacked };
}

/** The first `count` bytes of a file. */
export async function firstBytes(path: string, count: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
