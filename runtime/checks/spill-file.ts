// A decoded part (or an embedded file) kept on disk for the container checks, written without
// blocking the event loop: a write stream whose backpressure the caller honours through drained().
// A write error (a full disk, an existing name) is kept and thrown from the next drained() or close(),
// so it reaches the walker as a normal rejection, never as an unhandled 'error' event.
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';

export class SpillFile {
  private readonly stream: WriteStream;
  private error: Error | null = null;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    this.stream.on('error', (err) => {
      this.error ??= err;
    });
  }

  /** Queues bytes; the caller awaits drained() before it feeds much more. */
  write(bytes: Buffer): void {
    if (this.error) throw this.error;
    this.stream.write(bytes);
  }

  get needsDrain(): boolean {
    return this.error !== null || this.stream.writableNeedDrain;
  }

  async drained(): Promise<void> {
    if (this.error) throw this.error;
    if (!this.stream.writableNeedDrain || this.stream.destroyed) return;
    // 'close' too: a stream destroyed while we wait never drains.
    const stream = this.stream;
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        stream.off('drain', settle).off('close', settle).off('error', settle);
        if (err) reject(err);
        else resolve();
      };
      stream.on('drain', settle).on('close', settle).on('error', settle);
    });
    if (this.error) throw this.error;
  }

  /** Flushes and closes; rejects with the first write error. */
  async close(): Promise<void> {
    if (!this.error) {
      this.stream.end();
      await finished(this.stream).catch((err: Error) => {
        this.error ??= err;
      });
    }
    if (this.error) throw this.error;
  }

  /** Stops writing at once (a limit was hit, or the walk was abandoned); what was written stays. */
  destroy(): void {
    this.stream.destroy();
  }
}
