// The header section of a spooled message, read once (bounded) and parsed into fields. Bodies are
// never read here: they stay on disk and are streamed.
import { open } from 'node:fs/promises';
import libmime from 'libmime';

export interface HeaderField {
  /** Name as written (case kept). */
  name: string;
  /** Raw bytes of the whole field, folded lines and final line break included. */
  raw: Buffer;
  /** Unfolded value, bytes read as latin1 so 8-bit stays visible to the header check. */
  value: string;
}

export interface MessageHead {
  raw: Buffer;
  fields: HeaderField[];
  /** Byte offset where the body starts (after the blank line), or the file size if there is none. */
  bodyOffset: number;
  /** False when the header section was larger than the limit and was cut. */
  complete: boolean;
}

export const MAX_HEAD_BYTES = 1024 * 1024;

function findHeaderEnd(buffer: Buffer): { end: number; bodyOffset: number } | null {
  if (buffer.length >= 2 && buffer[0] === 0x0d && buffer[1] === 0x0a) return { end: 0, bodyOffset: 2 };
  if (buffer.length >= 1 && buffer[0] === 0x0a) return { end: 0, bodyOffset: 1 };
  for (let i = buffer.indexOf(0x0a); i !== -1; i = buffer.indexOf(0x0a, i + 1)) {
    const next = buffer[i + 1];
    if (next === 0x0a) return { end: i + 1, bodyOffset: i + 2 };
    if (next === 0x0d && buffer[i + 2] === 0x0a) return { end: i + 1, bodyOffset: i + 3 };
  }
  return null;
}

/** The head of a message held in memory (a small one). */
export function headOf(message: Buffer): MessageHead {
  const found = findHeaderEnd(message);
  return found ? parseHead(message.subarray(0, found.end), found.bodyOffset, true) : parseHead(message, message.length, true);
}

export async function readHead(path: string, limit = MAX_HEAD_BYTES): Promise<MessageHead> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    let position = 0;
    const chunkSize = 64 * 1024;
    while (total < limit) {
      const chunk = Buffer.alloc(Math.min(chunkSize, limit - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      position += bytesRead;
      const sofar = Buffer.concat(chunks, total);
      const found = findHeaderEnd(sofar);
      if (found) return parseHead(sofar.subarray(0, found.end), found.bodyOffset, true);
    }
    const all = Buffer.concat(chunks, total);
    // No blank line: either the message is all headers (complete) or the head exceeds the limit.
    return parseHead(all, all.length, total < limit);
  } finally {
    await handle.close();
  }
}

export function parseHead(raw: Buffer, bodyOffset: number, complete: boolean): MessageHead {
  const fields: HeaderField[] = [];
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(0x0a, start);
    end = end === -1 ? raw.length : end + 1;
    // Continuation lines start with white space.
    while (end < raw.length && (raw[end] === 0x20 || raw[end] === 0x09)) {
      const next = raw.indexOf(0x0a, end);
      end = next === -1 ? raw.length : next + 1;
    }
    const fieldBytes = raw.subarray(start, end);
    const textValue = fieldBytes.toString('latin1');
    const colon = textValue.indexOf(':');
    const name = colon > 0 ? textValue.slice(0, colon) : '';
    const value =
      colon > 0
        ? textValue
            .slice(colon + 1)
            .replace(/\r?\n[ \t]/g, ' ')
            .replace(/\r?\n$/, '')
            .trim()
        : textValue.trim();
    fields.push({ name, raw: fieldBytes, value });
    start = end;
  }
  return { raw, fields, bodyOffset, complete };
}

export function headerValues(head: MessageHead, name: string): string[] {
  const wanted = name.toLowerCase();
  return head.fields.filter((f) => f.name.toLowerCase() === wanted).map((f) => f.value);
}

/** RFC 2047 words decoded to Unicode; a value with broken words is shown as it is. */
export function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** The first value of a header, decoded, for display and the index. */
export function decodedHeader(head: MessageHead, name: string): string {
  const value = headerValues(head, name)[0];
  return value === undefined ? '' : decodeWords(Buffer.from(value, 'latin1').toString('utf8'));
}
