// `mailfilter policy`: the greylisting policy service Postfix asks at RCPT (check_policy_service).
// Wires the state, the spared-sender checks, the chart's counts and the listener; expires old entries hourly.
import type { AppConfig } from '../config/schema.js';
import { logger } from '../log.js';
import { authResolver } from '../checks/auth.js';
import { evaluateSpf } from '../checks/spf-evaluate.js';
import { networkMatcher } from '../checks/auth-networks.js';
import { authservIdOf } from '../checks/auth-results.js';
import { mynetworks } from '../render/template-values.js';
import { senderListLookup } from '../lists/lookup.js';
import { openViewerDbReader } from '../storage/open-viewer.js';
import { openSharedHandle } from '../storage/shared-handle.js';
import { greylist, type GreylistSettings } from './greylist.js';
import { listenPolicy } from './server.js';
import type { PolicyRequest } from './protocol.js';
import { GreylistCounts } from './greylist-counts.js';
import { openGreylistStorage } from './open-state.js';
import { withOutages, OUTAGE_TIMES, type OutageTimes } from './state-outage.js';

export interface RunningPolicy {
  port: number;
  close(): Promise<void>;
}

export async function startPolicy(config: AppConfig, outageTimes: OutageTimes = OUTAGE_TIMES): Promise<RunningPolicy> {
  const log = logger('policy');
  const { greylist: options } = config;
  // Several appliances: greylisting's state and the lists share this process's one pool. One
  // request at a time per smtpd connection, a few smtpd processes: a small one.
  const shared = openSharedHandle(config, { name: 'mailfilter-policy', maxConnections: 4, whileDown: 'greylisting is skipped (DUNNO) until it is' });
  const storage = await openGreylistStorage(config, shared);
  const { state } = storage;
  const memory = withOutages(state, log, outageTimes);
  const viewerDb = openViewerDbReader(config, shared);
  const lists = senderListLookup(viewerDb, log);
  const resolver = authResolver(config.auth.dnsServer, config.auth.dnsTimeoutSeconds);
  const settings: GreylistSettings = {
    delaySeconds: options.delaySeconds,
    autoAllowAfter: options.autoAllowAfter,
    inside: networkMatcher(mynetworks(config).split(/\s+/)),
    allowListed: async (recipient, sender) => (await lists(recipient, [sender]))?.kind === 'allow',
    spfPasses: async ({ clientAddress, helo, sender }) => {
      const { outcome } = await evaluateSpf({ sender, ip: clientAddress, helo }, { receiver: authservIdOf(config), resolve: resolver });
      return outcome.status.result === 'pass';
    },
  };
  // Each node expires the shared state too: the same DELETE twice an hour does no harm.
  const expire = async () => {
    try {
      const gone = await state.expire(options.expiryDays, Date.now());
      if (gone > 0) log.info('greylist expired', { entries: gone });
    } catch (err) {
      log.warn('greylist not expired', { error: (err as Error).message });
    }
  };
  void expire();
  const timer = setInterval(() => void expire(), 3_600_000);
  timer.unref();
  const counts = new GreylistCounts(storage.counts, log);
  const answer = async (request: PolicyRequest) => {
    const given = await greylist(request, memory, settings);
    counts.count(given);
    return given;
  };
  const listener = await listenPolicy(options.listenHost, options.listenPort, answer, log);
  log.info('listening', { address: `${options.listenHost}:${options.listenPort}`, protocol: 'postfix policy', delay_s: options.delaySeconds });
  const address = listener.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.listenPort,
    async close() {
      clearInterval(timer);
      await listener.close();
      await viewerDb.close();
      await counts.close();
      await storage.close();
      await shared?.close();
    },
  };
}
