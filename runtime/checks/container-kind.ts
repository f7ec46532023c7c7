// What kind of container a file is, by its content first and its name second. Decoders run only for
// files this names, so plain attachments cost nothing beyond their first bytes.
import { openSync, readSync, closeSync } from 'node:fs';

/** Formats Debian's 7-Zip lists for us. */
export const SEVEN_ZIP_KINDS = ['7z', 'rar', 'cab', 'iso', 'vhd', 'disk-image', 'arj', 'lzh', 'xz', 'zstd'] as const;
export type SevenZipKind = (typeof SEVEN_ZIP_KINDS)[number];
export type ContainerKind = 'zip' | 'gzip' | 'bzip2' | 'tar' | 'message' | 'tnef' | 'ole' | SevenZipKind;

export interface KindGuess {
  kind: ContainerKind;
  /** Content or name claim this kind, so a failure to decode is UNCHECKED; false for weak guesses (disk images). */
  sure: boolean;
}

const ascii = (magic: Buffer, at: number, length: number) => (magic.length >= at + length ? magic.toString('latin1', at, at + length) : '');

function byContent(magic: Buffer): ContainerKind | null {
  const head4 = ascii(magic, 0, 4);
  if (head4 === 'PK\x03\x04' || head4 === 'PK\x05\x06') return 'zip';
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (ascii(magic, 0, 3) === 'BZh') return 'bzip2';
  if (ascii(magic, 257, 5) === 'ustar') return 'tar';
  if (ascii(magic, 0, 6) === '7z\xbc\xaf\x27\x1c') return '7z';
  if (ascii(magic, 0, 6) === 'Rar!\x1a\x07') return 'rar';
  if (ascii(magic, 0, 8) === 'MSCF\0\0\0\0') return 'cab';
  if (ascii(magic, 0, 8) === 'conectix' || ascii(magic, 0, 8) === 'vhdxfile') return 'vhd';
  if (ascii(magic, 0, 6) === '\xfd7zXZ\0') return 'xz';
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (magic[0] === 0x60 && magic[1] === 0xea) return 'arj';
  if (/^-l[hz][0-7ds]-$/.test(ascii(magic, 2, 5))) return 'lzh';
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0x223e9f78) return 'tnef';
  if (ascii(magic, 0, 8) === '\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1') return 'ole';
  return null;
}

const BY_NAME: Array<[RegExp, ContainerKind]> = [
  [/\.(zip|zipx|jar|docx|docm|xlsx|xlsm|pptx|pptm)$/i, 'zip'],
  [/\.(gz|tgz)$/i, 'gzip'],
  [/\.(bz2|tbz2?)$/i, 'bzip2'],
  [/\.tar$/i, 'tar'],
  [/\.7z$/i, '7z'],
  [/\.rar$/i, 'rar'],
  [/\.cab$/i, 'cab'],
  [/\.(iso|udf)$/i, 'iso'],
  [/\.(vhd|vhdx)$/i, 'vhd'],
  [/\.arj$/i, 'arj'],
  [/\.(lzh|lha)$/i, 'lzh'],
  [/\.(xz|txz)$/i, 'xz'],
  [/\.(zst|tzst)$/i, 'zstd'],
  [/^winmail\.dat$|\.tnef$/i, 'tnef'],
  [/\.(eml|mht)$/i, 'message'],
];

/** A boot sector's signature: weak (any binary may carry it), so never "sure". */
function looksLikeDiskImage(magic: Buffer): boolean {
  return magic.length >= 512 && magic[510] === 0x55 && magic[511] === 0xaa && [0xeb, 0xe9, 0xfa, 0x33].includes(magic[0] ?? 0);
}

/** ISO-9660 and UDF put their signature 32 KiB in, after a system area that is all zeros. */
export function mayBeOpticalImage(magic: Buffer): boolean {
  return magic.length >= 2048 && magic.every((b) => b === 0);
}

export function containerKind(name: string, magic: Buffer, contentType = ''): KindGuess | null {
  const content = byContent(magic);
  if (content) return { kind: content, sure: true };
  if (contentType.toLowerCase() === 'message/rfc822') return { kind: 'message', sure: true };
  if (contentType.toLowerCase() === 'application/ms-tnef') return { kind: 'tnef', sure: true };
  const named = BY_NAME.find(([pattern]) => pattern.test(name.replace(/[\s.]+$/, '')));
  if (named) return { kind: named[1], sure: true };
  if (looksLikeDiskImage(magic) || /\.img$/i.test(name)) return { kind: 'disk-image', sure: false };
  if (mayBeOpticalImage(magic)) return { kind: 'iso', sure: false };
  return null;
}

/** Reads further into a spilled file for signatures past the first bytes (ISO-9660, UDF). */
export function sniffDeep(path: string): ContainerKind | null {
  const fd = openSync(path, 'r');
  try {
    const volume = Buffer.alloc(6);
    const read = readSync(fd, volume, 0, 6, 32768);
    if (read < 6) return null;
    const id = volume.toString('latin1', 1, 6);
    return id === 'CD001' || id === 'BEA01' || id === 'NSR02' || id === 'NSR03' ? 'iso' : null;
  } finally {
    closeSync(fd);
  }
}
