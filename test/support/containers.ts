// Fixtures for the container decoders, made at test time by Debian's own tools (7zz, gcab,
// genisoimage, arj, mkfs.fat + mcopy, xz, zstd) where one exists, and by small writers here for
// formats Debian can only read (TNEF, checked with Debian's tnef; LZH; OLE2) or only build by hand.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

export interface FixtureFile {
  name: string;
  data: Buffer;
}

/** A minimal but real PE image: MZ header whose e_lfanew points at "PE\0\0" and a COFF header. */
export function peExecutable(): Buffer {
  const image = Buffer.concat([Buffer.alloc(0x80), randomBytes(256)]);
  image.write('MZ', 0, 'latin1');
  image.writeUInt16LE(0x90, 2);
  image.writeUInt16LE(3, 4);
  image.writeUInt16LE(4, 8);
  image.writeUInt16LE(0x40, 0x18);
  image.writeUInt32LE(0x40, 0x3c);
  image.write('PE\0\0', 0x40, 'latin1');
  image.writeUInt16LE(0x14c, 0x44);
  return image;
}

/** Runs `build(dir)` in a folder holding `files`, returns the bytes of `output` it wrote there. */
function withFiles(files: FixtureFile[], output: string, build: (dir: string) => void): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'fixture-'));
  try {
    for (const file of files) {
      mkdirSync(dirname(join(dir, 'in', file.name)), { recursive: true });
      writeFileSync(join(dir, 'in', file.name), file.data);
    }
    mkdirSync(join(dir, 'in'), { recursive: true });
    build(dir);
    return readFileSync(join(dir, output));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

export function sevenZip(files: FixtureFile[], options: { password?: string; hideNames?: boolean } = {}): Buffer {
  const secret = options.password ? [`-p${options.password}`, ...(options.hideNames ? ['-mhe=on'] : [])] : [];
  return withFiles(files, 'out.7z', (dir) => run('7zz', ['a', '-bso0', '-bsp0', ...secret, '../out.7z', '.'], join(dir, 'in')));
}

export function cab(files: FixtureFile[]): Buffer {
  return withFiles(files, 'out.cab', (dir) => run('gcab', ['-c', '-z', '../out.cab', ...files.map((f) => f.name)], join(dir, 'in')));
}

export function iso(files: FixtureFile[], options: { udf?: boolean } = {}): Buffer {
  return withFiles(files, 'out.iso', (dir) =>
    run('genisoimage', ['-quiet', '-J', '-R', ...(options.udf ? ['-udf'] : []), '-o', '../out.iso', '.'], join(dir, 'in')),
  );
}

export function arj(files: FixtureFile[]): Buffer {
  return withFiles(files, 'out.arj', (dir) => run('arj', ['a', '-y', '../out.arj', ...files.map((f) => f.name)], join(dir, 'in')));
}

export function xz(data: Buffer): Buffer {
  return execFileSync('xz', ['-c'], { input: data });
}

export function zstd(data: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c'], { input: data });
}

/** A FAT floppy image (mkfs.fat) with the files copied in by mtools. */
export function fatImage(files: FixtureFile[]): Buffer {
  return withFiles(files, 'out.img', (dir) => {
    run('mkfs.fat', ['-C', '-n', 'FIXTURE', '../out.img', '1440'], join(dir, 'in'));
    for (const f of files) run('mcopy', ['-i', '../out.img', f.name, `::${f.name}`], join(dir, 'in'));
  });
}

/** A fixed-size VHD: the raw disk followed by its 512-byte "conectix" footer. */
export function vhd(disk: Buffer): Buffer {
  const size = Math.ceil(disk.length / 512) * 512;
  const footer = Buffer.alloc(512);
  footer.write('conectix', 0, 'latin1');
  footer.writeUInt32BE(2, 8);
  footer.writeUInt32BE(0x00010000, 12);
  footer.writeBigUInt64BE(0xffffffffffffffffn, 16);
  footer.write('mf  ', 28, 'latin1');
  footer.writeBigUInt64BE(BigInt(size), 40);
  footer.writeBigUInt64BE(BigInt(size), 48);
  const sectors = size / 512;
  footer.writeUInt16BE(Math.max(1, Math.ceil(sectors / (16 * 63))), 56);
  footer[58] = 16;
  footer[59] = 63;
  footer.writeUInt32BE(2, 60);
  randomBytes(16).copy(footer, 68);
  let sum = 0;
  for (const byte of footer) sum += byte;
  footer.writeUInt32BE(~sum >>> 0, 64);
  return Buffer.concat([disk, Buffer.alloc(size - disk.length), footer]);
}

function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** An LZH archive with stored (-lh0-) members and level-0 headers, as LHa writes them. */
export function lzh(files: FixtureFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const name = Buffer.from(file.name, 'latin1');
    const body = Buffer.alloc(22 + name.length + 2);
    body.write('-lh0-', 0, 'latin1');
    body.writeUInt32LE(file.data.length, 5);
    body.writeUInt32LE(file.data.length, 9);
    body.writeUInt32LE(0x5a210000, 13);
    body[17] = 0x20;
    body[18] = 0;
    body[19] = name.length;
    name.copy(body, 20);
    body.writeUInt16LE(crc16(file.data), 20 + name.length);
    const header = body.subarray(0, 22 + name.length);
    const checksum = header.reduce((n, b) => (n + b) & 0xff, 0);
    parts.push(Buffer.from([header.length, checksum]), header, file.data);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function tnefAttribute(level: number, id: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = level;
  head.writeUInt32LE(id, 1);
  head.writeUInt32LE(data.length, 5);
  const checksum = Buffer.alloc(2);
  checksum.writeUInt16LE(data.reduce((n, b) => (n + b) & 0xffff, 0));
  return Buffer.concat([head, data, checksum]);
}

/** One RAR 4 block: CRC16 (the low half of CRC32 over the rest), type, flags, size, body. */
function rar4Block(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt16LE(flags, 1);
  head.writeUInt16LE(7 + body.length, 3);
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE(crc32(Buffer.concat([head, body])) & 0xffff);
  return Buffer.concat([crc, head, body]);
}

/**
 * A RAR 4 archive with stored (uncompressed) members, as WinRAR writes them with -m0. Debian main
 * has no RAR writer; the format of stored members is simple and public (technote.txt).
 * `encryptedData` sets each member's password flag; `encryptedNames` sets the archive's "headers
 * are encrypted" flag (rar -hp) and hides what follows.
 */
export function rar4(files: FixtureFile[], options: { encryptedData?: boolean; encryptedNames?: boolean } = {}): Buffer {
  const parts = [Buffer.from('Rar!\x1a\x07\x00', 'latin1'), rar4Block(0x73, options.encryptedNames ? 0x0080 : 0, Buffer.alloc(6))];
  if (options.encryptedNames) return Buffer.concat([...parts, randomBytes(64)]);
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const body = Buffer.alloc(25 + name.length);
    body.writeUInt32LE(file.data.length, 0); // packed size
    body.writeUInt32LE(file.data.length, 4); // unpacked size
    body[8] = 3; // host: Unix
    body.writeUInt32LE(crc32(file.data), 9);
    body.writeUInt32LE(0x5a210000, 13); // DOS time
    body[17] = 20; // version needed: 2.0
    body[18] = 0x30; // method: store
    body.writeUInt16LE(name.length, 19);
    body.writeUInt32LE(0o100644, 21);
    name.copy(body, 25);
    // 0x8000: data follows the header; 0x0004: encrypted with a password.
    parts.push(rar4Block(0x74, 0x8000 | (options.encryptedData ? 0x0004 : 0), body), file.data);
  }
  parts.push(rar4Block(0x7b, 0x4000, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** RAR 5's variable-length integers: 7 bits a byte, high bit set on all but the last. */
function vint(value: number): Buffer {
  const bytes: number[] = [];
  do {
    bytes.push((value & 0x7f) | (value > 0x7f ? 0x80 : 0));
    value = Math.floor(value / 128);
  } while (value > 0);
  return Buffer.from(bytes);
}

function rar5Block(fields: Buffer): Buffer {
  const sized = Buffer.concat([vint(fields.length), fields]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(sized));
  return Buffer.concat([crc, sized]);
}

/**
 * A RAR 5 archive with stored members (the format of RAR 5.0 and later, rarlab's "RAR 5.0 archive
 * format"). `encryptedData` gives each member an encryption record (its content is left as it is).
 */
export function rar5(files: FixtureFile[], options: { encryptedData?: boolean } = {}): Buffer {
  const parts = [Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1'), rar5Block(Buffer.concat([vint(1), vint(0), vint(0)]))];
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32(file.data));
    // Encryption record: type 1, version 0, flags 0, KDF count, salt and IV.
    const crypt = Buffer.concat([vint(1), vint(0), vint(0), Buffer.from([15]), randomBytes(32)]);
    const extra = options.encryptedData ? Buffer.concat([vint(crypt.length), crypt]) : Buffer.alloc(0);
    const fields = Buffer.concat([
      vint(2), // file header
      vint(extra.length ? 0x0003 : 0x0002), // an extra area (when encrypted) and a data area follow
      ...(extra.length ? [vint(extra.length)] : []),
      vint(file.data.length),
      vint(0x0004), // CRC32 present
      vint(file.data.length),
      vint(0o100644),
      crc,
      vint(0), // compression: version 0, store
      vint(1), // host: Unix
      vint(name.length),
      name,
      extra,
    ]);
    parts.push(rar5Block(fields), file.data);
  }
  parts.push(rar5Block(Buffer.concat([vint(5), vint(0), vint(0)])));
  return Buffer.concat(parts);
}

/** Outlook's winmail.dat with these attachments: 8.3 title, data and the long MAPI file name. */
export function tnef(files: FixtureFile[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00])];
  parts.push(tnefAttribute(1, 0x00089006, Buffer.from([0, 0, 1, 0]))); // attTnefVersion
  for (const file of files) {
    parts.push(tnefAttribute(2, 0x00069002, Buffer.alloc(14))); // attAttachRendData
    const short = file.name.replace(/^(.{1,6}).*?(\.[^.]{0,3})?$/, (_m, stem: string, ext = '') => `${stem.toUpperCase()}~1${ext.toUpperCase()}`);
    parts.push(tnefAttribute(2, 0x00018010, Buffer.from(`${short}\0`, 'latin1'))); // attAttachTitle
    parts.push(tnefAttribute(2, 0x0006800f, file.data)); // attAttachData
    const longName = Buffer.from(`${file.name}\0`, 'latin1');
    const props = Buffer.alloc(4 + 4 + 4 + 4 + Math.ceil(longName.length / 4) * 4);
    props.writeUInt32LE(1, 0);
    props.writeUInt16LE(0x001e, 4);
    props.writeUInt16LE(0x3707, 6);
    props.writeUInt32LE(1, 8);
    props.writeUInt32LE(longName.length, 12);
    longName.copy(props, 16);
    parts.push(tnefAttribute(2, 0x00069005, props)); // attAttachment: PR_ATTACH_LONG_FILENAME
  }
  return Buffer.concat(parts);
}

/** The names Debian's tnef tool lists in a TNEF file: our writer is checked against a real reader. */
export function tnefListedByDebian(data: Buffer): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tnef-'));
  try {
    writeFileSync(join(dir, 'winmail.dat'), data);
    return execFileSync('tnef', ['--list', '-f', 'winmail.dat'], { cwd: dir, encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A one-sector-per-table OLE2 compound file whose directory names these storages and streams. */
export function ole2(entries: Array<{ name: string; storage?: boolean }>, rootClass = '00'.repeat(16)): Buffer {
  const sector = 512;
  const header = Buffer.alloc(sector);
  Buffer.from('d0cf11e0a1b11ae1', 'hex').copy(header, 0);
  header.writeUInt16LE(0x3e, 0x18);
  header.writeUInt16LE(3, 0x1a);
  header.writeUInt16LE(0xfffe, 0x1c);
  header.writeUInt16LE(9, 0x1e);
  header.writeUInt16LE(6, 0x20);
  header.writeUInt32LE(1, 0x2c); // one FAT sector
  header.writeUInt32LE(1, 0x30); // directory in sector 1
  header.writeUInt32LE(0x1000, 0x38);
  header.writeUInt32LE(0xfffffffe, 0x3c);
  header.writeUInt32LE(0xfffffffe, 0x44);
  for (let i = 0; i < 109; i++) header.writeUInt32LE(0xffffffff, 0x4c + i * 4);
  header.writeUInt32LE(0, 0x4c); // FAT in sector 0
  const fat = Buffer.alloc(sector, 0xff);
  fat.writeUInt32LE(0xfffffffd, 0);
  fat.writeUInt32LE(0xfffffffe, 4);
  const dir = Buffer.alloc(sector);
  const all = [{ name: 'Root Entry', type: 5 }, ...entries.slice(0, 3).map((e) => ({ name: e.name, type: e.storage ? 1 : 2 }))];
  all.forEach((entry, i) => {
    const at = i * 128;
    const name = Buffer.from(`${entry.name}\0`, 'utf16le');
    name.copy(dir, at);
    dir.writeUInt16LE(name.length, at + 0x40);
    dir[at + 0x42] = entry.type;
    dir.writeUInt32LE(0xffffffff, at + 0x44);
    dir.writeUInt32LE(0xffffffff, at + 0x48);
    dir.writeUInt32LE(i === 0 && all.length > 1 ? 1 : 0xffffffff, at + 0x4c);
    if (i > 0 && i + 1 < all.length) dir.writeUInt32LE(i + 1, at + 0x48);
    if (entry.type === 5) Buffer.from(rootClass, 'hex').copy(dir, at + 0x50);
    dir.writeUInt32LE(0xfffffffe, at + 0x74);
  });
  return Buffer.concat([header, fat, dir]);
}

export const MSI_CLASS = '84100c0000000000c000000000000046';

/** uuencoded block as `uuencode` writes it (backquote for zero). */
export function uuencode(name: string, data: Buffer): string {
  const enc = (n: number) => String.fromCharCode(n === 0 ? 96 : n + 32);
  const lines = [`begin 644 ${name}`];
  for (let at = 0; at < data.length; at += 45) {
    const chunk = data.subarray(at, at + 45);
    let line = enc(chunk.length);
    for (let i = 0; i < chunk.length; i += 3) {
      const [a = 0, b = 0, c = 0] = [chunk[i], chunk[i + 1], chunk[i + 2]];
      line += enc(a >> 2) + enc(((a & 3) << 4) | (b >> 4)) + enc(((b & 15) << 2) | (c >> 6)) + enc(c & 63);
    }
    lines.push(line);
  }
  lines.push('`', 'end');
  return lines.join('\r\n');
}

/** A yEnc block ("=ybegin ... =yend"), escaping what yEnc must escape. */
export function yencode(name: string, data: Buffer): string {
  let line = '';
  const lines = [`=ybegin line=128 size=${data.length} name=${name}`];
  for (const byte of data) {
    const c = (byte + 42) & 0xff;
    line += c === 0 || c === 10 || c === 13 || c === 0x3d ? `=${String.fromCharCode((c + 64) & 0xff)}` : String.fromCharCode(c);
    if (line.length >= 128) {
      lines.push(line);
      line = '';
    }
  }
  if (line) lines.push(line);
  lines.push(`=yend size=${data.length}`);
  return lines.join('\r\n');
}
