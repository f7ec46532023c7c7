// `mailfilter filter`: wires the store, the re-injector and the listener together, in that order,
// and takes them down in reverse on SIGTERM (unanswered messages stay in Postfix's queue).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AppConfig } from '../config/schema.js';
import { logger } from '../log.js';
import type { QuarantineStore } from '../quarantine/store.js';
import { openQuarantine } from '../storage/open-quarantine.js';
import { openSharedHandle } from '../storage/shared-handle.js';
import { startHeartbeat } from '../cluster/heartbeat.js';
import { createReinjector } from '../mail/reinject.js';
import { listen } from './listen.js';
import { filterMessage } from './pipeline.js';
import { prepareSpoolDir } from './spool.js';
import { senderListLookup } from '../lists/lookup.js';
import { openSpamTimeouts } from './spam-timeouts.js';
import { join } from 'node:path';
import { authMemory, authResolver } from '../checks/auth.js';
import { networkMatcher } from '../checks/auth-networks.js';
import { mynetworks, relayDomains } from '../render/template-values.js';
import type { AuthSettings } from './scan.js';
import { authservIdOf } from '../checks/auth-results.js';
import { auditSink } from './audit-sink.js';
import { openDkimSigner } from './dkim-sign.js';
import { dkimKeyPath, dkimSigningDomain } from '../checks/auth-dkim-key.js';
import { openViewerDbReader } from '../storage/open-viewer.js';

export interface RunningFilter {
  port: number;
  store: QuarantineStore;
  close(): Promise<void>;
}

/** The auth check's resolver and what it judges by, made once: the same mynetworks Postfix is given. */
export function authSettings(config: AppConfig): AuthSettings {
  const ourDomains = [...new Set([...relayDomains(config), config.mail.externalDomain.toLowerCase()].filter(Boolean))];
  const authservId = authservIdOf(config);
  const resolve = authResolver(config.auth.dnsServer, config.auth.dnsTimeoutSeconds);
  return {
    authservId,
    resolve,
    memory: authMemory(authservId, resolve),
    ourDomains,
    inside: networkMatcher(mynetworks(config).split(/\s+/)),
    trustedSealers: config.auth.trustedArcSealers.map((d) => d.toLowerCase()),
  };
}

export async function startFilter(config: AppConfig): Promise<RunningFilter> {
  const log = logger('filter');
  const auth = authSettings(config);
  // A missing or unreadable key stops the filter before it opens anything, not each message later.
  const dkim = config.dkim.enabled
    ? openDkimSigner({
        domain: dkimSigningDomain(config),
        selector: config.dkim.selector,
        keyFile: dkimKeyPath(config.dkim),
        inside: auth.inside,
      })
    : undefined;
  const leftovers = await prepareSpoolDir(config.filter.spoolDir);
  if (leftovers > 0) log.info('spool cleared of unanswered messages (Postfix will retry them)', { count: leftovers });
  // Several appliances: the quarantine, the heartbeat and the lists share this process's one pool.
  const shared = openSharedHandle(config, { name: 'mailfilter-filter', maxConnections: 10 });
  const store = await openQuarantine(config, shared);
  // Each node's filter says it is up, for the console's list of nodes.
  const beat = shared ? startHeartbeat(config, shared.db, log) : undefined;
  const reinjector = createReinjector({
    host: config.postfix.reinjectHost,
    port: config.postfix.reinjectPort,
    heloName: config.network.hostname,
    maxConnections: config.filter.maxConnections,
  });
  // The lists and the audit log, where the viewer keeps them: viewer.sqlite, or the shared database.
  const viewerDb = openViewerDbReader(config, shared);
  const senderLists = senderListLookup(viewerDb, log);
  // Beside the quarantine, not in the spool: the spool is emptied at every start.
  const spamTimeouts = openSpamTimeouts(join(config.quarantine.dir, 'spam-timeouts.sqlite'), log);
  const audit = auditSink(viewerDb);
  // `kill -USR2 <pid>` logs the event-loop lag and memory since the last report. Handled before the
  // port opens: a USR2 sent as soon as it listens would otherwise end the process (the default action).
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const reportStats = () => {
    const ms = (ns: number) => Math.round(ns / 1e5) / 10;
    const memory = process.memoryUsage();
    log.info('stats', {
      lag_p50_ms: ms(lag.percentile(50)),
      lag_p99_ms: ms(lag.percentile(99)),
      lag_max_ms: ms(lag.max),
      rss_mb: Math.round(memory.rss / 1048576),
      heap_mb: Math.round(memory.heapUsed / 1048576),
    });
    lag.reset();
  };
  process.on('SIGUSR2', reportStats);
  let server: Awaited<ReturnType<typeof listen>>;
  try {
    server = await listen({
      host: config.filter.listenHost,
      port: config.filter.listenPort,
      hostname: config.network.hostname,
      spoolDir: config.filter.spoolDir,
      maxMessageBytes: config.filter.maxMessageBytes,
      maxConnections: config.filter.maxConnections,
      log,
      handle: (message) => filterMessage(message, { config, store, reinjector, log, senderLists, spamTimeouts, auth, audit, ...(dkim ? { dkim } : {}) }),
    });
  } catch (err) {
    process.removeListener('SIGUSR2', reportStats);
    lag.disable();
    throw err;
  }
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : config.filter.listenPort,
    store,
    async close() {
      process.removeListener('SIGUSR2', reportStats);
      lag.disable();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      reinjector.close();
      spamTimeouts.close();
      await viewerDb.close();
      await beat?.stop();
      await store.close();
      await shared?.close();
    },
  };
}
