// The shared database's one owner (PostgreSQL, for several appliances): every table declared here,
// in order, and changed only by a new numbered migration. Kysely's Migrator takes a lock in the
// database while it migrates, so nodes that start together migrate it once.
import { readFileSync } from 'node:fs';
import { Kysely, Migrator, sql, type Migration } from 'kysely';
import type { AppConfig } from '../config/schema.js';
import { openPostgres } from './postgres.js';
import type { QuarantineTables } from './quarantine-db.js';

/** The tables as the stores see them (times are milliseconds since the epoch). */
export interface SharedTables extends QuarantineTables {
  /** Quarantined messages' bytes, in order: any node can show, download and release any message. */
  message_chunks: { message_id: string; seq: number; data: Buffer };
  cluster_nodes: {
    name: string;
    version: string;
    started_at: number;
    heartbeat_at: number;
    queue_size: number;
  };
  cluster_leases: {
    name: string;
    holder: string;
    taken_at: number;
    expires_at: number;
  };
}

/**
 * SpamAssassin's own schema for its PostgreSQL Bayes store, as the installed spamassassin package
 * ships it: the tables and functions must be exactly what its BayesStore::PgSQL queries.
 */
export const SPAMASSASSIN_BAYES_SCHEMA = '/usr/share/doc/spamassassin/sql/bayes_pg.sql';

function spamAssassinBayesSchema(): string {
  try {
    return readFileSync(SPAMASSASSIN_BAYES_SCHEMA, 'utf8');
  } catch (err) {
    throw new Error(`SpamAssassin's Bayes schema is missing (${(err as Error).message}); is the spamassassin package installed whole?`);
  }
}

/** Numbered by their keys, which Kysely orders as strings: keep the zero padding. */
export const SHARED_MIGRATIONS: Record<string, Migration> = {
  '0001-cluster': {
    // Each node's heartbeat (the console's list of nodes), and the leases by which work that must
    // happen once per cluster (digests, expiry, a mailbox's poll) is done by one node at a time.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('cluster_nodes')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('queue_size', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('cluster_leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('taken_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0002-quarantine': {
    // The quarantine index as in each appliance's index.sqlite, plus the messages themselves.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('mail_from', 'text', (c) => c.notNull())
        .addColumn('header_from', 'text', (c) => c.notNull())
        .addColumn('header_to', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('score', 'double precision')
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('messages_received').on('messages').column('received_at').execute();
      await db.schema
        .createTable('recipients')
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('released_at', 'bigint')
        .addColumn('released_by', 'text')
        .addPrimaryKeyConstraint('recipients_pk', ['message_id', 'address'])
        .execute();
      await db.schema.createIndex('recipients_address').on('recipients').column('address').execute();
      await db.schema
        .createTable('message_chunks')
        .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('data', 'bytea', (c) => c.notNull())
        .addPrimaryKeyConstraint('message_chunks_pk', ['message_id', 'seq'])
        .execute();
      for (const [table, key] of [
        ['daily_outcomes', 'outcome'],
        ['door_daily', 'kind'],
      ] as const) {
        await db.schema
          .createTable(table)
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn(key, 'text', (c) => c.notNull())
          .addColumn('count', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['day', key])
          .execute();
      }
    },
  },
  '0003-spamassassin-bayes': {
    // Several statements and a function body: one simple query, no parameters.
    up: async (db: Kysely<unknown>) => void (await sql.raw(spamAssassinBayesSchema()).execute(db)),
  },
};

export const SHARED_SCHEMA_VERSION = Object.keys(SHARED_MIGRATIONS).length;

/**
 * Brings the shared schema up to this release's version. A database already migrated past it by a
 * newer node is an error that says so: this node would write rows the newer schema does not expect.
 */
export async function migrateShared(db: Kysely<SharedTables>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(SHARED_MIGRATIONS) },
    migrationTableName: 'mailfilter_migrations',
    migrationLockTableName: 'mailfilter_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const message = error instanceof Error ? error.message : String(error);
    if (/corrupted migrations|previously executed migration .* is missing/i.test(message))
      throw new Error(`storage: the shared database was migrated by a newer release than this node's (${message}); upgrade this node`);
    throw new Error(`storage: migrating the shared database failed${failed ? ` at ${failed.migrationName}` : ''}: ${message}`);
  }
}

/** The shared database named by the config's storage section, as this node's `applicationName` (pg_stat_activity). */
export function openSharedDatabase(storage: AppConfig['storage'], applicationName: string, maxConnections?: number): Kysely<SharedTables> {
  return openPostgres<SharedTables>({ url: storage.url, caFile: storage.caFile, applicationName, ...(maxConnections ? { maxConnections } : {}) });
}

/** The database's own clock in milliseconds: nodes' clocks may differ, the database's is one. */
export const databaseNow = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export const databaseNowPlus = (ms: number) => sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint + ${ms}`;
