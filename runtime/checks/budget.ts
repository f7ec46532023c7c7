// Limits on what one message's attachments and archives may unpack to, so an archive bomb ends as a
// clear verdict instead of a full disk or an exhausted heap.
export class InspectionLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InspectionLimitError';
  }
}

export interface InspectionLimits {
  maxBytes: number;
  maxEntries: number;
  maxDepth: number;
}

export class InspectionBudget {
  private bytesUsed = 0;
  private entriesSeen = 0;

  constructor(readonly limits: InspectionLimits) {}

  takeBytes(count: number): void {
    this.bytesUsed += count;
    if (this.bytesUsed > this.limits.maxBytes) throw new InspectionLimitError(`unpacks to more than ${this.limits.maxBytes} bytes`);
  }

  takeEntry(): void {
    this.entriesSeen += 1;
    if (this.entriesSeen > this.limits.maxEntries) throw new InspectionLimitError(`holds more than ${this.limits.maxEntries} files`);
  }

  checkDepth(depth: number): void {
    if (depth > this.limits.maxDepth) throw new InspectionLimitError(`nests archives more than ${this.limits.maxDepth} deep`);
  }
}
