// The shared database's one owner (PostgreSQL, for several appliances): every table declared here,
// in order, and changed only by a new numbered migration. Kysely's Migrator takes a lock in the
// database while it migrates, so nodes that start together migrate it once.
import { readFileSync } from 'node:fs';
import { Kysely, Migrator, sql, type ColumnDefinitionBuilder, type Migration } from 'kysely';
import type { AppConfig } from '../config/schema.js';
import { openPostgres } from './postgres.js';
import type { GreylistTables } from './greylist-db.js';
import type { QuarantineTables } from './quarantine-db.js';
import { ONE_ENTRY_PER_PATTERN, type ViewerTables } from './viewer-db.js';
import type { FetchTables } from './fetch-db.js';

/** The tables as the stores see them (times are milliseconds since the epoch). */
export interface SharedTables extends QuarantineTables, ViewerTables, GreylistTables, FetchTables {
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
  '0004-viewer': {
    // The viewer's database as in each appliance's viewer.sqlite (storage/viewer-db.ts): one login
    // for the cluster, and a list entry, release or setting made on any node holds on all of them.
    async up(db: Kysely<unknown>) {
      const id = (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity();
      const userId = (c: ColumnDefinitionBuilder) => c.notNull().references('users.id').onDelete('cascade');
      await db.schema
        .createTable('users')
        .addColumn('id', 'bigint', id)
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('source', 'text', (c) => c.notNull().defaultTo('local'))
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // viewer.sqlite's username is COLLATE NOCASE: the same here.
      await sql`CREATE UNIQUE INDEX users_username ON users (lower(username))`.execute(db);
      await db.schema
        .createTable('addresses')
        .addColumn('address', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'bigint', userId)
        .execute();
      await db.schema.createIndex('addresses_user').on('addresses').column('user_id').execute();
      await db.schema
        .createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'bigint', userId)
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('failed_logins')
        .addColumn('id', 'bigint', id)
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('failed_logins_key').on('failed_logins').columns(['key', 'at']).execute();
      await db.schema
        .createTable('sender_lists')
        .addColumn('id', 'bigint', id)
        .addColumn('owner_id', 'bigint', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('allow', 'block')`))
        .addColumn('pattern', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sender_lists_pattern').on('sender_lists').column('pattern').execute();
      await db.schema
        .createTable('audit')
        .addColumn('id', 'bigint', id)
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('detail', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('client', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_at').on('audit').column('at').execute();
      await db.schema.createIndex('audit_message').on('audit').column('message_id').execute();
      await db.schema
        .createTable('release_requests')
        .addColumn('id', 'bigint', id)
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'bigint', userId)
        .addColumn('recipients', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'bigint')
        .execute();
      await db.schema.createIndex('release_requests_status').on('release_requests').column('status').execute();
      await db.schema
        .createTable('settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('digest_state')
        .addColumn('user_id', 'bigint', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('frequency', 'text')
        .addColumn('last_sent_at', 'bigint')
        .execute();
      await db.schema
        .createTable('used_tokens')
        .addColumn('nonce', 'text', (c) => c.primaryKey())
        .addColumn('used_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0005-greylist': {
    // Greylisting's memory as in each appliance's greylist.stateFile (storage/greylist-db.ts): a
    // triplet first seen by one node passes when its retry reaches another.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('greylist_triplets')
        .addColumn('network', 'text', (c) => c.notNull())
        .addColumn('sender', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('passed', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('greylist_triplets_pk', ['network', 'sender', 'recipient'])
        .execute();
      await db.schema.createIndex('greylist_triplets_last_seen').on('greylist_triplets').column('last_seen').execute();
      await db.schema
        .createTable('greylist_clients')
        .addColumn('network', 'text', (c) => c.primaryKey())
        .addColumn('passes', 'integer', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0006-fetch': {
    // Fetch mode's record of each mailbox's messages as in each fetcher's seen.sqlite
    // (storage/fetch-db.ts): a node that takes a mailbox's poll over does not fetch again what
    // the node before it fetched, and the console shows every node's set-aside messages.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('seen')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('uid', 'text', (c) => c.notNull())
        .addColumn('fetched_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('seen_pk', ['account', 'uid'])
        .execute();
      await db.schema
        .createTable('failures')
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('uid', 'text', (c) => c.notNull())
        .addColumn('streak', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text', (c) => c.notNull())
        .addColumn('first_failed_at', 'bigint', (c) => c.notNull())
        .addColumn('last_failed_at', 'bigint', (c) => c.notNull())
        .addColumn('set_aside_at', 'bigint')
        .addPrimaryKeyConstraint('failures_pk', ['account', 'uid'])
        .execute();
    },
  },
  '0007-sender-lists-unique': {
    // As viewer.sqlite's migration 4 (ONE_ENTRY_PER_PATTERN says which duplicate stays). Locked
    // against writes first: a node still on the release before, adding an entry between the
    // delete and the index, would make the index fail. (The migrator's transaction ends the lock.)
    async up(db: Kysely<unknown>) {
      await sql`LOCK TABLE sender_lists IN SHARE ROW EXCLUSIVE MODE`.execute(db);
      for (const statement of ONE_ENTRY_PER_PATTERN) await sql.raw(statement).execute(db);
    },
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

/**
 * The shared database named by the config's storage section, as this node's `applicationName`
 * (pg_stat_activity); `connectTimeoutMs` shortens the connect timeout for a command someone waits on.
 */
export function openSharedDatabase(
  storage: AppConfig['storage'],
  applicationName: string,
  maxConnections?: number,
  connectTimeoutMs?: number,
): Kysely<SharedTables> {
  return openPostgres<SharedTables>({
    url: storage.url,
    caFile: storage.caFile,
    applicationName,
    ...(maxConnections ? { maxConnections } : {}),
    ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
  });
}

/** The database's own clock in milliseconds: nodes' clocks may differ, the database's is one. */
export const databaseNow = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export const databaseNowPlus = (ms: number) => sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint + ${ms}`;
