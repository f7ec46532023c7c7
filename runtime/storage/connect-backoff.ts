// New connections to the shared database while its host is out of reach. A host that drops
// packets costs each connection attempt the whole connect timeout, and every lookup would wait it
// in turn: after a failed attempt, new connections fail at once for a window (5 s, doubling to
// 60 s while the failures go on), then one probe at a time tries again; the first success ends it.
import type { Logger } from '../log.js';
import { isDatabaseUnavailable } from './unavailable.js';

export interface ConnectBackoffOptions {
  /** host:port, for the log lines. */
  host: string;
  log: Logger;
  /** Milliseconds on a monotonic clock. */
  now?: () => number;
  firstWindowMs?: number;
  maxWindowMs?: number;
}

interface Unreachable {
  since: number;
  lastTryAt: number;
  /** "timed out after 10 s", or "failed: <why>". */
  lastOutcome: string;
  lastError: Error;
  windowMs: number;
  nextTryAt: number;
  probing: boolean;
}

/**
 * What a query that needs a new connection gets while the host is out of reach. SQLSTATE 08001
 * (the client could not connect) is what isDatabaseUnavailable, and so the degraded paths, know.
 */
export class DatabaseUnreachableError extends Error {
  readonly code = '08001';
}

const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000));

export class ConnectBackoff {
  private state: Unreachable | null = null;
  private readonly now: () => number;
  private readonly firstWindowMs: number;
  private readonly maxWindowMs: number;

  constructor(private readonly options: ConnectBackoffOptions) {
    this.now = options.now ?? (() => performance.now());
    this.firstWindowMs = options.firstWindowMs ?? 5_000;
    this.maxWindowMs = options.maxWindowMs ?? 60_000;
  }

  /** Whether new connections are held back just now (or wait for the probe under way). */
  get unreachable(): boolean {
    return this.state !== null;
  }

  /**
   * Runs `connect` (one connection attempt, which gives up after `timeoutMs`), or fails at once
   * while the host is in its window or another attempt probes it.
   */
  async attempt<T>(connect: () => Promise<T>, timeoutMs: number): Promise<T> {
    const probe = this.state !== null;
    if (this.state) {
      if (this.state.probing || this.now() < this.state.nextTryAt) throw this.heldBack(this.state);
      this.state.probing = true;
    }
    const startedAt = this.now();
    let result: T;
    try {
      result = await connect();
    } catch (err) {
      // Refused credentials or certificate: the host answered, and no window would help.
      if (isDatabaseUnavailable(err)) this.failed(err as Error, startedAt, timeoutMs, probe);
      else this.reached();
      throw err;
    }
    this.reached();
    return result;
  }

  private failed(err: Error, startedAt: number, timeoutMs: number, probe: boolean): void {
    const now = this.now();
    // Timers fire a few milliseconds early against a clock read before they were set.
    const outcome = now - startedAt >= timeoutMs * 0.9 ? `timed out after ${seconds(timeoutMs)} s` : `failed: ${err.message}`;
    if (!this.state) {
      this.state = {
        since: now,
        lastTryAt: now,
        lastOutcome: outcome,
        lastError: err,
        windowMs: this.firstWindowMs,
        nextTryAt: now + this.firstWindowMs,
        probing: false,
      };
      this.options.log.warn('shared database unreachable: new connections fail at once until a probe gets through', {
        host: this.options.host,
        error: outcome,
        nextTryInSeconds: seconds(this.firstWindowMs),
      });
      return;
    }
    this.state.lastTryAt = now;
    this.state.lastOutcome = outcome;
    this.state.lastError = err;
    // Attempts begun before the host was known to be out of reach end as they end: only a probe's
    // failure lengthens the window.
    if (!probe) return;
    this.state.windowMs = Math.min(this.state.windowMs * 2, this.maxWindowMs);
    this.state.nextTryAt = now + this.state.windowMs;
    this.state.probing = false;
  }

  private reached(): void {
    if (!this.state) return;
    this.options.log.info('shared database reachable again', { host: this.options.host, unreachableForSeconds: seconds(this.now() - this.state.since) });
    this.state = null;
  }

  private heldBack(state: Unreachable): DatabaseUnreachableError {
    const now = this.now();
    const next = state.probing ? 'a try is under way' : `next try in ${Math.max(1, Math.ceil((state.nextTryAt - now) / 1000))} s`;
    return new DatabaseUnreachableError(`shared database unreachable (last try ${seconds(now - state.lastTryAt)} s ago ${state.lastOutcome}; ${next})`, {
      cause: state.lastError,
    });
  }
}
