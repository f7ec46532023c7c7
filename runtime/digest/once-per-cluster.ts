// The digest run when several appliances share one database: every node's hourly timer fires
// (RandomizedDelaySec spreads them over five minutes), and the run goes ahead on the node that takes
// the "digest" lease. It keeps the lease for half an hour after a run, so the other nodes' timers
// of the same hour find it taken and send nothing; the next hour's run is whoever's timer fires
// first. One appliance alone runs its digests as before.
import { holderName, runOncePerCluster } from '../cluster/lease.js';
import type { ActionDeps } from '../actions/services.js';
import type { Logger } from '../log.js';
import { runDigests, type DigestReport } from './run.js';

export const DIGEST_LEASE = 'digest';
/** Renewed every third of it while sending; a dead node's run is taken over after it. */
const DIGEST_LEASE_MS = 60_000;
/** Longer than the timers' spread, shorter than the hour between runs. */
export const DIGEST_KEEP_AFTER_MS = 30 * 60_000;

export type DigestRun = { ran: true; reports: DigestReport[] } | { ran: false; heldBy: string | undefined };

export async function runDigestsOnce(
  services: ActionDeps,
  log: Logger,
  options: { force?: boolean; now?: Date } = {},
  timing: { leaseMs?: number; keepAfterMs?: number } = {},
): Promise<DigestRun> {
  const { config, shared } = services;
  // The lease is taken through the process's handle on the shared database, there when storage.backend is postgresql.
  if (!shared) return { ran: true, reports: await runDigests(services, log, options) };
  const holder = holderName(config.network.hostname);
  const result = await runOncePerCluster(
    shared,
    { name: DIGEST_LEASE, holder, ttlMs: timing.leaseMs ?? DIGEST_LEASE_MS },
    (stillHeld) => runDigests(services, log, { ...options, stillHeld }),
    { keepAfterMs: timing.keepAfterMs ?? DIGEST_KEEP_AFTER_MS },
  );
  if (!result.ran) {
    log.info('digests left to the node holding the digest lease (it runs them, or ran them less than half an hour ago)', { held_by: result.heldBy });
    return result;
  }
  log.info('digest run done under the digest lease', { lease_holder: holder, users: result.value.length });
  return { ran: true, reports: result.value };
}
