// `mailfilter fetch`: every interval, polls all mailboxes of the accounts file, a few at a time.
// One failing mailbox is logged and retried next round; the others go on. close() (SIGTERM) lets
// each mailbox finish the message in flight, record it and QUIT, then returns.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import { logger } from '../log.js';
import type { QuarantineStore } from '../quarantine/store.js';
import { holderName, runOncePerCluster } from '../cluster/lease.js';
import { openQuarantine } from '../storage/open-quarantine.js';
import { openSharedHandle } from '../storage/shared-handle.js';
import { loadAccounts, accountKey, type FetchServer, type FetchAccount } from './accounts.js';
import type { DrainDeps } from './drain.js';
import { createInjector } from './inject.js';
import { explainFailure, pollAccount, type PollSummary } from './poll.js';
import { quarantineRefused, type RefusedKeeper } from './refused.js';
import { SeenState } from './seen-state.js';
import { seenStatePath } from './set-aside.js';
import { clearTransit } from './transit.js';

/** Polls in a row a message may fail before it is set aside (see set-aside.ts). */
export const SET_ASIDE_AFTER = 5;

export interface PollOutcome {
  account: string;
  ok: boolean;
  summary?: PollSummary;
  error?: string;
  /** Several appliances: not polled here, another node held the mailbox's lease. */
  polledBy?: string;
}

export interface Fetcher {
  pollNow(): Promise<PollOutcome[]>;
  close(): Promise<void>;
}

async function inPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}

export function startFetcher(config: AppConfig, options: { schedule: boolean; setAsideAfter?: number }): Fetcher {
  const log = logger('fetch');
  const { fetch } = config;
  const transitDir = join(fetch.stateDir, 'tmp');
  const leftovers = clearTransit(transitDir);
  if (leftovers > 0)
    log.warn('removed messages left in transit by a fetcher that was stopped hard; the server still has them', { count: leftovers, dir: transitDir });
  // Several appliances: what was fetched is shared, and each mailbox is polled under a lease; the
  // seen state, the leases and the quarantine of refused messages share this process's one pool.
  const shared = openSharedHandle(config, { name: 'mailfilter-fetch', maxConnections: fetch.concurrency + 2 });
  const holder = holderName(config.network.hostname);
  const state = shared ? SeenState.shared(shared.db) : SeenState.open(seenStatePath(fetch.stateDir));
  const injector = createInjector({
    host: '127.0.0.1',
    port: config.postfix.smtpPort,
    heloName: config.network.hostname,
    timeoutMs: fetch.timeoutSeconds * 1000,
  });
  // Opened on the first refusal only: most fetchers never need it.
  let store: Promise<QuarantineStore> | null = null;
  const refused: RefusedKeeper = {
    keep: async (path, refusal) => {
      // A shared database that is down now is tried again at the next refusal.
      store ??= openQuarantine(config, shared).catch((err: unknown) => {
        store = null;
        throw err;
      });
      return quarantineRefused(await store).keep(path, refusal);
    },
  };
  let closed = false;
  const deps: DrainDeps & { timeoutMs: number } = {
    state,
    injector,
    refused,
    transitDir,
    log,
    timeoutMs: fetch.timeoutSeconds * 1000,
    stopping: () => closed,
    setAsideAfter: options.setAsideAfter ?? SET_ASIDE_AFTER,
  };
  let running: Promise<PollOutcome[]> | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function pollAll(): Promise<PollOutcome[]> {
    if (!existsSync(fetch.accountsFile)) {
      log.warn('no accounts file: nothing to fetch', { file: fetch.accountsFile });
      return [];
    }
    let servers: FetchServer[];
    try {
      servers = loadAccounts(fetch.accountsFile, fetch.keep);
    } catch (err) {
      log.error('accounts file has problems; fix it and the next poll uses it', { error: (err as Error).message.replace(/\n\s*/g, ' | ') });
      return [];
    }
    const mailboxes: Array<[FetchServer, FetchAccount]> = servers.flatMap((server) =>
      server.accounts.map((account): [FetchServer, FetchAccount] => [server, account]),
    );
    const started = Date.now();
    await shared?.firstTry;
    const outcomes = await inPool(mailboxes, fetch.concurrency, async ([server, account]): Promise<PollOutcome> => {
      const key = accountKey(server, account);
      if (closed) return { account: key, ok: false, error: 'not polled: the fetcher is stopping' };
      try {
        let summary: PollSummary;
        if (shared) {
          // Released when the poll ends; renewed while it runs; lost: no message handed to Postfix after.
          const lease = { name: `fetch:${key}`, holder, ttlMs: fetch.leaseSeconds * 1000 };
          const run = await runOncePerCluster(shared.db, lease, (stillHeld) => pollAccount(server, account, { ...deps, stillHeld }));
          if (!run.ran) {
            log.debug('mailbox polled by another node', { account: key, held_by: run.heldBy });
            return { account: key, ok: true, polledBy: run.heldBy ?? 'another node' };
          }
          summary = run.value;
          if (summary.leaseLost) log.warn('lost the lease on this mailbox: another node polls it now', { account: key, fetched: summary.fetched });
        } else summary = await pollAccount(server, account, deps);
        const { fetched, refused: refusedCount, deleted, failed, setAside, skipped, alreadySeen } = summary;
        if (fetched || refusedCount || deleted || failed || setAside)
          log.info('polled', {
            account: key,
            fetched,
            refused: refusedCount,
            deleted,
            failed,
            set_aside: setAside,
            skipped_set_aside: skipped,
            already_seen: alreadySeen,
            stopped: summary.stopRequested || undefined,
          });
        if (summary.stoppedEarly) {
          log.error('poll stopped early, the rest is fetched next round', { account: key, error: summary.stoppedEarly });
          return { account: key, ok: false, summary, error: summary.stoppedEarly };
        }
        return { account: key, ok: true, summary };
      } catch (err) {
        const error = explainFailure(err, server);
        log.error('poll failed, retrying next round', { account: key, error });
        return { account: key, ok: false, error };
      }
    });
    log.info('poll done', { mailboxes: mailboxes.length, failed: outcomes.filter((o) => !o.ok).length, ms: Date.now() - started });
    return outcomes;
  }

  const pollNow = () => {
    running ??= pollAll().finally(() => (running = null));
    return running;
  };
  const scheduleNext = () => {
    if (closed) return;
    timer = setTimeout(() => void pollNow().finally(scheduleNext), fetch.intervalSeconds * 1000);
  };
  if (options.schedule) void pollNow().finally(scheduleNext);

  return {
    pollNow,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
      injector.close();
      await state.close();
      await (await store?.catch(() => null))?.close();
      await shared?.close();
    },
  };
}
