// Work that must happen once per cluster (a digest run, quarantine expiry, one mailbox's poll) is
// done under a lease: a row naming its holder until a time on the database's clock. The holder
// renews it while it works; a node that dies stops renewing, and another takes over once it has
// expired. Work checks `stillHeld()` before each step that cannot be undone.
import type { Kysely } from 'kysely';
import { databaseNow, databaseNowPlus, type SharedTables } from '../storage/shared-schema.js';

export interface LeaseOptions {
  /** The work's name: "digest", "expiry", "fetch:alice@pop.example.com". */
  name: string;
  /** This node's name. */
  holder: string;
  /** How long the lease lasts unless renewed; renewed every third of it. */
  ttlMs: number;
}

/** Takes the lease when it is free, expired or already ours; says whether we hold it now. */
export async function tryAcquire(db: Kysely<SharedTables>, lease: LeaseOptions): Promise<boolean> {
  const row = await db
    .insertInto('cluster_leases')
    .values({ name: lease.name, holder: lease.holder, taken_at: databaseNow, expires_at: expiry(lease) })
    .onConflict((conflict) =>
      conflict
        .column('name')
        .doUpdateSet({
          holder: lease.holder,
          // A renewal keeps the time it was taken; a takeover starts it anew.
          taken_at: (eb) => eb.case().when('cluster_leases.holder', '=', lease.holder).then(eb.ref('cluster_leases.taken_at')).else(databaseNow).end(),
          expires_at: expiry(lease),
        })
        .where((eb) => eb.or([eb('cluster_leases.holder', '=', lease.holder), eb('cluster_leases.expires_at', '<', databaseNow)])),
    )
    .returning('holder')
    .executeTakeFirst();
  return row?.holder === lease.holder;
}

/** Gives the lease up at once (only if still ours), so the next node need not wait for it to expire. */
export async function release(db: Kysely<SharedTables>, lease: LeaseOptions): Promise<void> {
  await db.deleteFrom('cluster_leases').where('name', '=', lease.name).where('holder', '=', lease.holder).execute();
}

/** Who holds a lease now, if anyone (an expired lease is held by no one). */
export async function currentHolder(db: Kysely<SharedTables>, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('cluster_leases').select('holder').where('name', '=', name).where('expires_at', '>=', databaseNow).executeTakeFirst();
  return row?.holder;
}

export type OnceResult<T> = { ran: true; value: T } | { ran: false; heldBy: string | undefined };

/**
 * Runs `work` if this node gets the lease, renewing it meanwhile, and releases it afterwards (or,
 * with `keepAfterMs`, keeps it that long after a run that succeeded).
 * `stillHeld()` turns false as soon as a renewal finds the lease lost (this node was too slow or
 * cut off, and another took over): the work must stop before its next irreversible step.
 */
export async function runOncePerCluster<T>(
  db: Kysely<SharedTables>,
  lease: LeaseOptions,
  work: (stillHeld: () => boolean) => Promise<T>,
  options: { keepAfterMs?: number } = {},
): Promise<OnceResult<T>> {
  let confirmedAt = performance.now();
  if (!(await tryAcquire(db, lease))) return { ran: false, heldBy: await currentHolder(db, lease.name) };
  let held = true;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      const askedAt = performance.now();
      renewing = tryAcquire(db, lease).then(
        (ok) => {
          if (!ok) held = false;
          else confirmedAt = askedAt;
        },
        () => {
          // The database is unreachable: after the lease's time another node may take over.
          held = false;
        },
      );
    },
    Math.max(1, Math.floor(lease.ttlMs / 3)),
  );
  timer.unref();
  let succeeded = false;
  try {
    // Also false once the lease's time has passed since the last renewal was asked for, on this
    // process's monotonic clock: a node frozen for longer (a paused VM, SIGSTOP) must not go on
    // when it wakes just because its renewal timer has not fired yet.
    const stillHeld = () => held && performance.now() - confirmedAt < lease.ttlMs;
    const value = await work(stillHeld);
    succeeded = true;
    return { ran: true, value };
  } finally {
    clearInterval(timer);
    await renewing;
    if (held) {
      // Kept a while after a run that other nodes must not repeat soon after (their timers fire
      // minutes apart); otherwise given up, so the next run need not wait for it to expire.
      if (succeeded && options.keepAfterMs) await tryAcquire(db, { ...lease, ttlMs: options.keepAfterMs }).catch(() => undefined);
      else await release(db, lease).catch(() => undefined);
    }
  }
}

/** A lease's holder: this node's host name and the process, so a restarted daemon does not take its dead predecessor's lease for its own. */
export function holderName(hostname: string): string {
  return `${hostname} (pid ${process.pid})`;
}

/** When a lease taken now ends, on the database's clock. */
function expiry(lease: LeaseOptions) {
  if (!Number.isInteger(lease.ttlMs) || lease.ttlMs <= 0) throw new Error(`lease time must be a positive whole number of milliseconds (got ${lease.ttlMs})`);
  return databaseNowPlus(lease.ttlMs);
}
