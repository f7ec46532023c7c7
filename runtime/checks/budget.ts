// Limits on what one message's attachments and containers may cost, across every format at once,
// so an archive bomb or a stuck decoder ends as a clear verdict instead of a full disk, an exhausted
// heap or a message that never gets an answer.
export type LimitKind = 'bytes' | 'entries' | 'depth' | 'time';

/** Decoded bytes over this many times the message's own size can only be a bomb. */
const BOMB_RATIO = 100;

export class InspectionLimitError extends Error {
  constructor(
    message: string,
    readonly kind: LimitKind,
    readonly bomb = false,
  ) {
    super(message);
    this.name = 'InspectionLimitError';
  }

  /** The same limit, its message prefixed with where it was hit. */
  at(where: string): InspectionLimitError {
    return new InspectionLimitError(`${where} ${this.message}`, this.kind, this.bomb);
  }
}

export interface InspectionLimits {
  maxBytes: number;
  maxEntries: number;
  maxDepth: number;
  /** Wall-clock seconds for all decoding of one message; unset: no time limit. */
  maxSeconds?: number;
  /** The message's own size, to tell a bomb (huge ratio) from something merely large. */
  inputBytes?: number;
}

export class InspectionBudget {
  private bytesUsed = 0;
  private entriesSeen = 0;
  private readonly deadline: number;

  constructor(readonly limits: InspectionLimits) {
    this.deadline = limits.maxSeconds ? Date.now() + limits.maxSeconds * 1000 : Infinity;
  }

  takeBytes(count: number): void {
    this.bytesUsed += count;
    if (this.bytesUsed > this.limits.maxBytes) {
      const bomb = this.limits.inputBytes !== undefined && this.bytesUsed > BOMB_RATIO * Math.max(this.limits.inputBytes, 1);
      throw new InspectionLimitError(`unpacks to more than ${this.limits.maxBytes} bytes`, 'bytes', bomb);
    }
    this.checkTime();
  }

  takeEntry(): void {
    this.entriesSeen += 1;
    if (this.entriesSeen > this.limits.maxEntries) throw new InspectionLimitError(`holds more than ${this.limits.maxEntries} files`, 'entries');
  }

  checkDepth(depth: number): void {
    if (depth > this.limits.maxDepth) throw new InspectionLimitError(`nests containers more than ${this.limits.maxDepth} deep`, 'depth');
  }

  checkTime(): void {
    if (Date.now() > this.deadline) throw new InspectionLimitError(`took longer than ${this.limits.maxSeconds}s to decode`, 'time');
  }

  /** What a decoder run as a subprocess may still use. */
  remaining(): { bytes: number; entries: number; ms: number } {
    return {
      bytes: Math.max(0, this.limits.maxBytes - this.bytesUsed),
      entries: Math.max(0, this.limits.maxEntries - this.entriesSeen),
      ms: this.deadline === Infinity ? 10 * 60_000 : Math.max(0, this.deadline - Date.now()),
    };
  }
}
