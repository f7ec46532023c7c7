// Walks a message's MIME tree as a stream (mailsplit), decoding each leaf part on the fly. Keeps only
// what the banned and header checks need: names, types, the first bytes, files uuencoded or yEnc'd
// in text parts, and, for containers the banned check wants to open, the decoded content spilled
// to a temp file within a byte budget. Spilling is asynchronous and its backpressure reaches the
// message's read stream, so a 25 MB attachment neither blocks the event loop nor piles up in memory.
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Transform } from 'node:stream';
import libmime from 'libmime';
import { Splitter, type MimeNode } from 'mailsplit';
import type { InspectionBudget } from './budget.js';
import { EmbeddedBlockScanner, type EmbeddedFile } from './embedded-blocks.js';
import { SpillFile } from './spill-file.js';

// Enough for a PE header's e_lfanew to point inside it, and to see 2 KiB of an ISO's zero system area.
export const MAGIC_BYTES = 4096;

export interface MimePart {
  /** Position in the tree for logs, e.g. "2.1". */
  partId: string;
  contentType: string;
  filename: string;
  encoding: string;
  /** The message's top-level entity (its headers are the message head). */
  root: boolean;
  /** Raw header bytes of this part (the top-level header for the root). */
  headerBytes: Buffer;
  decodedSize: number;
  magic: Buffer;
  /** Decoded content on disk, when `wantSpill` asked for it. */
  spillPath?: string;
  /** Files found uuencoded or yEnc'd in a text part. */
  embedded?: EmbeddedFile[];
}

export interface MimeStructure {
  parts: MimePart[];
  /** Structural problems: the header check reports them as bad headers. */
  problems: string[];
  /** False when the walk had to stop (too many parts, huge part header). */
  complete: boolean;
}

export interface WalkOptions {
  tempDir: string;
  /** Asked once per leaf, with the first bytes: should its decoded content be kept on disk? */
  wantSpill: (part: Omit<MimePart, 'spillPath'>) => boolean;
  budget: InspectionBudget;
  maxParts?: number;
}

const KNOWN_ENCODINGS = new Set(['', '7bit', '8bit', 'binary', 'base64', 'quoted-printable']);

/** A multipart's boundary as the body lines carry it (bytes read as latin1), or '' when it has none. */
function boundaryOf(node: MimeNode): string {
  const boundary = libmime.parseHeaderValue(node.headers.getFirst('Content-Type')).params.boundary;
  return boundary ? Buffer.from(boundary).toString('latin1') : '';
}

class PartCollector {
  readonly part: Omit<MimePart, 'spillPath'> & { spillPath?: string };
  private magicChunks: Buffer[] = [];
  private magicLength = 0;
  private decided = false;
  private spill: SpillFile | null = null;
  /** A limit hit while spilling; thrown from finish(), not from inside the decoder's stream. */
  private limitError: Error | null = null;
  private readonly embedded: EmbeddedBlockScanner | null;
  readonly decoder: Transform;

  constructor(
    node: MimeNode,
    partId: string,
    private readonly options: WalkOptions,
    private readonly spillName: string,
  ) {
    const encoding = (node.encoding || '').toLowerCase();
    this.part = {
      partId,
      root: node.root,
      contentType: node.contentType || 'text/plain',
      filename: typeof node.filename === 'string' ? node.filename : '',
      encoding,
      headerBytes: node.getHeaders(),
      decodedSize: 0,
      magic: Buffer.alloc(0),
    };
    let embeddedCount = 0;
    this.embedded = this.part.contentType.toLowerCase().startsWith('text/')
      ? new EmbeddedBlockScanner({
          magicBytes: MAGIC_BYTES,
          budget: options.budget,
          tempDir: options.tempDir,
          nextSpillName: () => `${spillName}-embedded-${++embeddedCount}`,
          wantSpill: (filename, magic) => options.wantSpill({ ...this.part, filename, magic, contentType: 'application/octet-stream' }),
        })
      : null;
    this.decoder = node.getDecoder();
    // While a spill has more queued than its stream wants, the decoder pauses: its buffer fills, its
    // write() answers false, and the walker waits for 'drain' before it reads on.
    this.decoder.on('data', (chunk: Buffer) => {
      this.take(chunk);
      if (this.spill?.needsDrain || this.embedded?.needsDrain) {
        this.decoder.pause();
        void this.drained().then(() => this.decoder.resume());
      }
    });
  }

  /** Waits for the spills to drain; a write error there becomes the part's limit error, never a rejection. */
  private async drained(): Promise<void> {
    if (this.spill?.needsDrain) {
      try {
        await this.spill.drained();
      } catch (err) {
        this.stopSpilling(err as Error);
      }
    }
    if (this.embedded && !this.limitError) {
      try {
        await this.embedded.drained();
      } catch (err) {
        this.limitError = err as Error;
        this.embedded.abandon();
      }
    }
  }

  private take(chunk: Buffer): void {
    this.part.decodedSize += chunk.length;
    if (this.embedded && !this.limitError) {
      try {
        this.embedded.feed(chunk);
      } catch (err) {
        this.limitError = err as Error;
        this.embedded.abandon();
      }
    }
    if (!this.decided) {
      this.magicChunks.push(chunk);
      this.magicLength += chunk.length;
      if (this.magicLength >= MAGIC_BYTES) this.decide();
      return;
    }
    this.keep(chunk);
  }

  private decide(): void {
    this.decided = true;
    const head = Buffer.concat(this.magicChunks, this.magicLength);
    this.magicChunks = [];
    this.part.magic = head.subarray(0, MAGIC_BYTES);
    if (this.options.wantSpill(this.part)) {
      this.part.spillPath = join(this.options.tempDir, this.spillName);
      this.spill = new SpillFile(this.part.spillPath);
    }
    this.keep(head);
  }

  private keep(chunk: Buffer): void {
    if (!this.spill) return;
    try {
      this.options.budget.takeBytes(chunk.length);
      this.spill.write(chunk);
    } catch (err) {
      this.stopSpilling(err as Error);
    }
  }

  private stopSpilling(err: Error): void {
    this.limitError = err;
    this.spill?.destroy();
    this.spill = null;
  }

  async finish(): Promise<MimePart> {
    const ended = once(this.decoder, 'end');
    this.decoder.end();
    await ended;
    if (!this.decided) this.decide();
    if (this.spill) {
      const spill = this.spill;
      this.spill = null;
      await spill.close().catch((err: Error) => {
        this.limitError ??= err;
      });
    }
    if (this.embedded && !this.limitError) {
      try {
        const files = await this.embedded.finish();
        if (files.length) this.part.embedded = files;
      } catch (err) {
        this.limitError = err as Error;
      }
    }
    if (this.limitError) throw this.limitError;
    return this.part;
  }

  abandon(): void {
    this.embedded?.abandon();
    this.spill?.destroy();
    this.spill = null;
    this.decoder.destroy();
  }
}

export async function walkMime(path: string, options: WalkOptions, namePrefix = 'part'): Promise<MimeStructure> {
  const splitter = new Splitter({ maxChildNodes: options.maxParts ?? 1000, maxHeadSize: 1024 * 1024 });
  const source = createReadStream(path);
  source.on('error', (err) => splitter.destroy(err));
  source.pipe(splitter);

  const parts: MimePart[] = [];
  const problems: string[] = [];
  const openBoundaries = new Map<string, string>(); // boundary -> partId of its multipart
  let current: PartCollector | null = null;
  let leafCount = 0;
  let complete = true;

  const finishCurrent = async () => {
    if (!current) return;
    const collector = current;
    current = null;
    parts.push(await collector.finish());
  };

  try {
    for await (const item of splitter) {
      if (item.type === 'node') {
        await finishCurrent();
        const node = item;
        const partId = String(parts.length + openBoundaries.size + 1);
        const encoding = (node.encoding || '').toLowerCase();
        if (!KNOWN_ENCODINGS.has(encoding)) problems.push(`unknown Content-Transfer-Encoding "${encoding.slice(0, 40)}" in part ${partId}`);
        if (node.multipart) {
          const boundary = boundaryOf(node);
          if (!boundary) problems.push(`multipart/${node.multipart} without a boundary in part ${partId}`);
          else openBoundaries.set(boundary, partId);
          if (!node.root) continue;
          // The root's own headers still matter to the header check, through a zero-size pseudo part.
          parts.push({
            partId: 'head',
            root: true,
            contentType: node.contentType || '',
            filename: '',
            encoding,
            headerBytes: node.getHeaders(),
            decodedSize: 0,
            magic: Buffer.alloc(0),
          });
          continue;
        }
        leafCount += 1;
        current = new PartCollector(node, partId, options, `${namePrefix}-${leafCount}`);
      } else if (item.type === 'body' && current) {
        const collector: PartCollector = current;
        if (!collector.decoder.write(item.value)) await once(collector.decoder, 'drain');
      } else if (item.type === 'data' && openBoundaries.size > 0) {
        // mailsplit hands over runs of lines at once: look at each.
        for (const rawLine of item.value.toString('latin1').split('\n')) {
          const line = rawLine.trimEnd();
          if (line.startsWith('--') && line.endsWith('--')) openBoundaries.delete(line.slice(2, -2));
        }
      }
    }
    await finishCurrent();
  } catch (err) {
    (current as PartCollector | null)?.abandon();
    source.destroy();
    const error = err as NodeJS.ErrnoException;
    if (error.code === 'EMAXLEN') {
      complete = false;
      problems.push(`MIME structure too large to inspect: ${error.message}`);
    } else {
      throw err;
    }
  }
  for (const partId of openBoundaries.values()) problems.push(`multipart in part ${partId} is never closed (missing final boundary)`);
  return { parts, problems, complete };
}
