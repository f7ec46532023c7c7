// The nodes sharing one database, as the console lists them: each writes a heartbeat with its
// version and Postfix queue size; one whose heartbeat is older than three intervals is shown as down.
import type { Kysely } from 'kysely';
import { databaseNow, type SharedTables } from '../storage/shared-schema.js';

export const HEARTBEAT_INTERVAL_MS = 30_000;

export interface NodeBeat {
  name: string;
  version: string;
  queueSize: number;
}

export interface ClusterNode extends NodeBeat {
  startedAt: number;
  heartbeatAt: number;
  /** Heard from within three heartbeat intervals, by the database's clock. */
  alive: boolean;
}

/** Records that this node is up; the first beat of a start also sets its start time. */
export async function heartbeat(db: Kysely<SharedTables>, beat: NodeBeat, starting = false): Promise<void> {
  await db
    .insertInto('cluster_nodes')
    .values({ name: beat.name, version: beat.version, queue_size: beat.queueSize, started_at: databaseNow, heartbeat_at: databaseNow })
    .onConflict((conflict) =>
      conflict.column('name').doUpdateSet((eb) => ({
        version: beat.version,
        queue_size: beat.queueSize,
        heartbeat_at: databaseNow,
        started_at: starting ? databaseNow : eb.ref('cluster_nodes.started_at'),
      })),
    )
    .execute();
}

export async function listNodes(db: Kysely<SharedTables>, intervalMs = HEARTBEAT_INTERVAL_MS): Promise<ClusterNode[]> {
  const rows = await db
    .selectFrom('cluster_nodes')
    .select(['name', 'version', 'queue_size', 'started_at', 'heartbeat_at'])
    .select((eb) => eb(eb.ref('heartbeat_at'), '>=', eb(databaseNow, '-', 3 * intervalMs)).as('alive'))
    .orderBy('name')
    .execute();
  return rows.map((r) => ({
    name: r.name,
    version: r.version,
    queueSize: r.queue_size,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    alive: Boolean(r.alive),
  }));
}

/** Takes a node off the list (`mailfilter cluster leave`, or an admin removing a dead one). */
export async function forgetNode(db: Kysely<SharedTables>, name: string): Promise<boolean> {
  const result = await db.deleteFrom('cluster_nodes').where('name', '=', name).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
