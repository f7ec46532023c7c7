// Files hidden in the text of a body part: uuencoded ("begin 644 name" ... "end") and yEnc
// ("=ybegin ... name=" ... "=yend") blocks. Fed the part's decoded text as it streams past; keeps
// each file's name and first bytes, and spills a block's content when it is itself a container.
import { join } from 'node:path';
import type { InspectionBudget } from './budget.js';
import { SpillFile } from './spill-file.js';

export interface EmbeddedFile {
  name: string;
  encoding: 'uuencode' | 'yenc';
  magic: Buffer;
  size: number;
  spillPath?: string;
}

export interface EmbeddedOptions {
  magicBytes: number;
  budget: InspectionBudget;
  tempDir: string;
  nextSpillName: () => string;
  /** Asked once per block, with its name and first bytes: keep the whole content on disk? */
  wantSpill: (name: string, magic: Buffer) => boolean;
}

const UU_BEGIN = /^begin(?:-base64)? +[0-7]{3,4} +(.+?)\s*$/;
const YENC_BEGIN = /^=ybegin .*\bname=(.+?)\s*$/;
const MAX_LINE = 4096;

class Block {
  readonly file: EmbeddedFile;
  private head: Buffer[] = [];
  private headLength = 0;
  spill: SpillFile | null = null;
  private decided = false;

  constructor(
    name: string,
    encoding: EmbeddedFile['encoding'],
    private readonly options: EmbeddedOptions,
  ) {
    this.file = { name, encoding, magic: Buffer.alloc(0), size: 0 };
  }

  add(bytes: Buffer): void {
    this.file.size += bytes.length;
    if (this.decided) return this.keep(bytes);
    this.head.push(bytes);
    this.headLength += bytes.length;
    if (this.headLength >= this.options.magicBytes) this.decide();
  }

  private decide(): void {
    this.decided = true;
    const head = Buffer.concat(this.head);
    this.head = [];
    this.file.magic = head.subarray(0, this.options.magicBytes);
    if (this.options.wantSpill(this.file.name, this.file.magic)) {
      this.file.spillPath = join(this.options.tempDir, this.options.nextSpillName());
      this.spill = new SpillFile(this.file.spillPath);
    }
    this.keep(head);
  }

  private keep(bytes: Buffer): void {
    if (!this.spill) return;
    this.options.budget.takeBytes(bytes.length);
    this.spill.write(bytes);
  }

  /** The block ended: its file, and its spill's closing (an error or null, never a rejection left unheard). */
  finish(): { file: EmbeddedFile; closed: Promise<Error | null> } {
    if (!this.decided) this.decide();
    const closed = this.spill
      ? this.spill.close().then(
          () => null,
          (err: Error) => err,
        )
      : Promise.resolve(null);
    this.spill = null;
    return { file: this.file, closed };
  }

  destroy(): void {
    this.spill?.destroy();
    this.spill = null;
  }
}

function uudecodeLine(line: string): Buffer | null {
  const length = (line.charCodeAt(0) - 32) & 63;
  if (length === 0) return Buffer.alloc(0);
  const out = Buffer.alloc(Math.ceil(length / 3) * 3);
  let o = 0;
  for (let i = 1; o < length && i + 3 < line.length + 3; i += 4) {
    const c = [0, 1, 2, 3].map((k) => ((line.charCodeAt(i + k) || 32) - 32) & 63);
    out[o++] = (c[0]! << 2) | (c[1]! >> 4);
    out[o++] = ((c[1]! & 15) << 4) | (c[2]! >> 2);
    out[o++] = ((c[2]! & 3) << 6) | c[3]!;
  }
  return out.subarray(0, length);
}

function ydecodeLine(line: string): Buffer {
  const out = Buffer.alloc(line.length);
  let o = 0;
  for (let i = 0; i < line.length; i++) {
    let c = line.charCodeAt(i) & 0xff;
    if (c === 0x3d && i + 1 < line.length) c = (line.charCodeAt(++i) - 64) & 0xff;
    out[o++] = (c - 42) & 0xff;
  }
  return out.subarray(0, o);
}

export class EmbeddedBlockScanner {
  readonly files: EmbeddedFile[] = [];
  private carry = '';
  private block: Block | null = null;
  private readonly closing: Promise<Error | null>[] = [];

  constructor(private readonly options: EmbeddedOptions) {}

  feed(chunk: Buffer): void {
    const text = this.carry + chunk.toString('latin1');
    // Outside a block, only text that can start one is worth splitting into lines.
    if (!this.block && !text.includes('begin')) {
      const lastBreak = text.lastIndexOf('\n');
      this.carry = text.slice(lastBreak + 1).slice(-MAX_LINE);
      return;
    }
    const lines = text.split('\n');
    this.carry = lines.pop()!.slice(-MAX_LINE);
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  private line(line: string): void {
    if (!this.block) {
      const uu = UU_BEGIN.exec(line);
      const yenc = uu ? null : YENC_BEGIN.exec(line);
      if (uu) this.block = new Block(uu[1]!, 'uuencode', this.options);
      else if (yenc) this.block = new Block(yenc[1]!, 'yenc', this.options);
      return;
    }
    const block = this.block;
    if (block.file.encoding === 'uuencode') {
      if (line === 'end' || line === '`' || line === '') {
        if (line === 'end') this.end();
        return;
      }
      const bytes = uudecodeLine(line);
      if (bytes) block.add(bytes);
      return;
    }
    if (line.startsWith('=yend')) return this.end();
    if (line.startsWith('=ypart ')) return;
    block.add(ydecodeLine(line));
  }

  private end(): void {
    if (this.block) {
      const { file, closed } = this.block.finish();
      this.files.push(file);
      this.closing.push(closed);
    }
    this.block = null;
  }

  /** The open block's spill has more queued than its stream wants. */
  get needsDrain(): boolean {
    return this.block?.spill?.needsDrain ?? false;
  }

  /** Waits while the open block's spill has more queued than its stream wants. */
  async drained(): Promise<void> {
    if (this.block?.spill?.needsDrain) await this.block.spill.drained();
  }

  /** The part ended: a block without its end line still counts, as far as it got. */
  async finish(): Promise<EmbeddedFile[]> {
    if (this.carry) this.line(this.carry.replace(/\r$/, ''));
    this.carry = '';
    this.end();
    for (const error of await Promise.all(this.closing)) if (error) throw error;
    return this.files;
  }

  abandon(): void {
    this.block?.destroy();
    this.block = null;
  }
}
