// `mailfilter fetch`: every interval, polls all mailboxes of the accounts file, a few at a time.
// One failing mailbox is logged and retried next round; the others go on.
import { existsSync, mkdirSync } from 'node:fs';
import type { AppConfig } from '../config/schema.js';
import { logger } from '../log.js';
import { loadAccounts, accountKey, type FetchServer, type FetchAccount } from './accounts.js';
import { createInjector } from './inject.js';
import { explainFailure, pollAccount, type PollSummary } from './poll.js';
import { SeenState } from './seen-state.js';
import { join } from 'node:path';

export interface PollOutcome {
  account: string;
  ok: boolean;
  summary?: PollSummary;
  error?: string;
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

export function startFetcher(config: AppConfig, options: { schedule: boolean }): Fetcher {
  const log = logger('fetch');
  const { fetch } = config;
  mkdirSync(join(fetch.stateDir, 'tmp'), { recursive: true, mode: 0o700 });
  const state = new SeenState(join(fetch.stateDir, 'seen.sqlite'));
  const injector = createInjector({ host: '127.0.0.1', port: config.postfix.smtpPort, heloName: config.network.hostname, timeoutMs: fetch.timeoutSeconds * 1000 });
  const deps = { state, injector, tempDir: join(fetch.stateDir, 'tmp'), timeoutMs: fetch.timeoutSeconds * 1000, log };
  let running: Promise<PollOutcome[]> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

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
    const mailboxes: Array<[FetchServer, FetchAccount]> = servers.flatMap((server) => server.accounts.map((account): [FetchServer, FetchAccount] => [server, account]));
    const started = Date.now();
    const outcomes = await inPool(mailboxes, fetch.concurrency, async ([server, account]): Promise<PollOutcome> => {
      const key = accountKey(server, account);
      try {
        const summary = await pollAccount(server, account, deps);
        if (summary.fetched || summary.deleted) log.info('polled', { account: key, fetched: summary.fetched, deleted: summary.deleted, already_seen: summary.alreadySeen });
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
      state.close();
    },
  };
}
