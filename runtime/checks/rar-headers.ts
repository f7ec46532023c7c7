// Counts a RAR's encrypted members from its block headers alone. libarchive hands the content of a
// stored encrypted member over as if it were plain, and says nothing: without this count a
// ciphertext named "invoice.pdf" would pass as checked. Formats: RAR 4 (technote.txt) and RAR 5
// (rarlab's "RAR 5.0 archive format").
import { open, type FileHandle } from 'node:fs/promises';

const RAR4 = Buffer.from('Rar!\x1a\x07\x00', 'latin1');
const RAR5 = Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1');

async function bytesAt(file: FileHandle, at: number, count: number): Promise<Buffer> {
  const buffer = Buffer.alloc(count);
  const { bytesRead } = await file.read(buffer, 0, count, at);
  return buffer.subarray(0, bytesRead);
}

/** A RAR 5 vint at `at`: its value and the offset after it; null past the buffer. */
function vint(buffer: Buffer, at: number): [number, number] | null {
  let value = 0;
  for (let shift = 0, i = at; i < buffer.length && shift < 53; shift += 7, i++) {
    value += (buffer[i]! & 0x7f) * 2 ** shift;
    if ((buffer[i]! & 0x80) === 0) return [value, i + 1];
  }
  return null;
}

async function rar4Encrypted(file: FileHandle, maxBlocks: number): Promise<number> {
  let at = RAR4.length;
  let encrypted = 0;
  for (let blocks = 0; blocks < maxBlocks; blocks++) {
    const head = await bytesAt(file, at, 11);
    if (head.length < 7) break;
    const type = head[2];
    const flags = head.readUInt16LE(3);
    const size = head.readUInt16LE(5);
    if (size < 7) break;
    if (type === 0x73 && flags & 0x0080) return Infinity; // headers encrypted: every name hidden
    if (type === 0x74 && flags & 0x0004) encrypted += 1;
    const added = flags & 0x8000 && head.length >= 11 ? head.readUInt32LE(7) : 0;
    const high = type === 0x74 && flags & 0x0100 ? (await bytesAt(file, at + 32, 4)).readUInt32LE(0) * 2 ** 32 : 0;
    if (type === 0x7b) break;
    at += size + added + high;
  }
  return encrypted;
}

async function rar5Encrypted(file: FileHandle, maxBlocks: number): Promise<number> {
  let at = RAR5.length;
  let encrypted = 0;
  for (let blocks = 0; blocks < maxBlocks; blocks++) {
    const head = await bytesAt(file, at, 4 + 3);
    const size = vint(head, 4);
    if (!size) break;
    const [headerSize, bodyAt] = size;
    const header = await bytesAt(file, at + bodyAt, Math.min(headerSize, 65536));
    const type = vint(header, 0);
    const flags = type && vint(header, type[1]);
    if (!type || !flags) break;
    if (type[0] === 4) return Infinity; // archive encryption header: every name hidden
    let next = flags[1];
    let extraSize = 0;
    let dataSize = 0;
    if (flags[0] & 0x0001) {
      const extra = vint(header, next);
      if (!extra) break;
      [extraSize, next] = extra;
    }
    if (flags[0] & 0x0002) {
      const data = vint(header, next);
      if (!data) break;
      [dataSize, next] = data;
    }
    // The extra area ends the header; a file's encryption record is type 1 in it.
    if (type[0] === 2 && extraSize > 0) {
      for (let record = header.length - extraSize; record < header.length;) {
        const recordSize = vint(header, record);
        const recordType = recordSize && vint(header, recordSize[1]);
        if (!recordSize || !recordType || recordSize[0] === 0) break;
        if (recordType[0] === 1) encrypted += 1;
        record = recordSize[1] + recordSize[0];
      }
    }
    if (type[0] === 5) break;
    at += bodyAt + headerSize + dataSize;
  }
  return encrypted;
}

/** How many members of the RAR at `path` are encrypted (Infinity: the headers are); looks at most `maxBlocks` blocks. */
export async function encryptedRarMembers(path: string, maxBlocks: number): Promise<number> {
  const file = await open(path, 'r');
  try {
    const signature = await bytesAt(file, 0, RAR5.length);
    if (signature.equals(RAR5)) return await rar5Encrypted(file, maxBlocks);
    if (signature.subarray(0, RAR4.length).equals(RAR4)) return await rar4Encrypted(file, maxBlocks);
    return 0;
  } finally {
    await file.close();
  }
}
