// Outlook's TNEF (winmail.dat): the attachments it wraps, each with its name (the long MAPI name when
// present, else the 8.3 title) and content, so they are judged like any other part. Read from a
// buffer with every length checked: a damaged file is a DecodeError, never a crash or a hang.
import { DecodeError } from './decode-error.js';

export const TNEF_SIGNATURE = 0x223e9f78;

export interface TnefAttachment {
  name: string;
  data: Buffer;
}

const LEVEL_ATTACHMENT = 2;
const ATT_RENDDATA = 0x9002; // starts each attachment
const ATT_TITLE = 0x8010;
const ATT_DATA = 0x800f;
const ATT_ATTACHMENT = 0x9005; // the attachment's MAPI properties
const PR_ATTACH_DATA = 0x3701;
const PR_ATTACH_LONG_FILENAME = 0x3707;

const FIXED_SIZES: Record<number, number> = {
  0x0001: 0,
  0x0002: 4,
  0x0003: 4,
  0x0004: 4,
  0x000a: 4,
  0x000b: 4,
  0x0005: 8,
  0x0006: 8,
  0x0007: 8,
  0x0014: 8,
  0x0040: 8,
  0x0048: 16,
};
const VARIABLE_TYPES = new Set([0x001e, 0x001f, 0x0102, 0x000d]);

class Cursor {
  constructor(
    readonly data: Buffer,
    public at = 0,
  ) {}

  need(count: number): void {
    if (count < 0 || this.at + count > this.data.length) throw new DecodeError('corrupt or truncated TNEF');
  }

  u16(): number {
    this.need(2);
    this.at += 2;
    return this.data.readUInt16LE(this.at - 2);
  }

  u32(): number {
    this.need(4);
    this.at += 4;
    return this.data.readUInt32LE(this.at - 4);
  }

  bytes(count: number): Buffer {
    this.need(count);
    this.at += count;
    return this.data.subarray(this.at - count, this.at);
  }
}

const cString = (value: Buffer, utf16: boolean) => (utf16 ? value.toString('utf16le') : value.toString('latin1')).replace(/\0.*$/s, '');

/** The long file name and the data object from an attachment's MAPI property block, when present. */
function mapiAttachmentProps(block: Buffer): { longName?: string; data?: Buffer } {
  const cursor = new Cursor(block);
  const found: { longName?: string; data?: Buffer } = {};
  const count = cursor.u32();
  for (let i = 0; i < count && cursor.at < block.length; i++) {
    const type = cursor.u16();
    const id = cursor.u16();
    if (id >= 0x8000) {
      cursor.bytes(16);
      if (cursor.u32() === 0) cursor.u32();
      else cursor.bytes((cursor.u32() + 3) & ~3);
    }
    const base = type & 0x0fff;
    const values = type & 0x1000 ? cursor.u32() : 1;
    for (let v = 0; v < values; v++) {
      if (VARIABLE_TYPES.has(base)) {
        const entries = type & 0x1000 ? 1 : cursor.u32();
        for (let e = 0; e < entries; e++) {
          const length = cursor.u32();
          const value = cursor.bytes(length);
          cursor.bytes(((length + 3) & ~3) - length);
          if (id === PR_ATTACH_LONG_FILENAME && (base === 0x001e || base === 0x001f)) found.longName = cString(value, base === 0x001f);
          if (id === PR_ATTACH_DATA && base === 0x0102) found.data = value;
          if (id === PR_ATTACH_DATA && base === 0x000d && value.length > 16) found.data = value.subarray(16);
        }
      } else {
        const size = FIXED_SIZES[base];
        if (size === undefined) return found; // unknown type: its size is unknowable, stop here
        cursor.bytes(size);
      }
    }
  }
  return found;
}

export function parseTnef(data: Buffer): TnefAttachment[] {
  const cursor = new Cursor(data);
  if (cursor.u32() !== TNEF_SIGNATURE) throw new DecodeError('not TNEF (bad signature)');
  cursor.u16(); // legacy key
  const attachments: Array<{ title?: string; longName?: string; data?: Buffer }> = [];
  while (cursor.at < data.length) {
    const level = cursor.bytes(1)[0];
    const id = cursor.u32() & 0xffff;
    const length = cursor.u32();
    const value = cursor.bytes(length);
    cursor.u16(); // checksum
    if (level !== LEVEL_ATTACHMENT) continue;
    if (id === ATT_RENDDATA || attachments.length === 0) attachments.push({});
    const current = attachments[attachments.length - 1]!;
    if (id === ATT_TITLE) current.title = cString(value, false);
    else if (id === ATT_DATA) current.data = value;
    else if (id === ATT_ATTACHMENT) {
      const props = mapiAttachmentProps(value);
      if (props.longName) current.longName = props.longName;
      if (props.data && !current.data) current.data = props.data;
    }
  }
  return attachments
    .filter((a) => a.title !== undefined || a.longName !== undefined || a.data !== undefined)
    .map((a) => ({ name: a.longName || a.title || '', data: a.data ?? Buffer.alloc(0) }));
}
