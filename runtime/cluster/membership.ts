// `mailfilter cluster join|leave|nodes|forget`: a node joins the shared database (schema checked and,
// when older, migrated under the lock; its quarantine and viewer database copied if the admin wants; storage.* written
// into its own config file; the daemons that read storage restarted) and is seen there by its
// heartbeat. Leaving turns it back into an appliance alone.
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/schema.js';
import { QuarantineStore } from '../quarantine/store.js';
import { copyApplianceToShared } from '../storage/migrate-to-shared.js';
import { QUARANTINE_DATABASE } from '../storage/quarantine-db.js';
import { viewerDatabasePath } from '../storage/viewer-db.js';
import { databaseNow, migrateShared, openSharedDatabase, SHARED_SCHEMA_VERSION } from '../storage/shared-schema.js';
import { renderStorageFiles, writeStorageSettings } from './node-config.js';
import { forgetNode, HEARTBEAT_INTERVAL_MS, listNodes, type ClusterNode } from './nodes.js';
import { connectionProblem, inspectSharedDatabase, maskedUrl, newerSchemaProblem, nodeLine, schemaLine, SharedDatabaseError } from './probe.js';

const run = promisify(execFile);

export interface MembershipOptions {
  /** The node's config file (/etc/mailfilter/mailfilter.json on the appliance). */
  configPath: string;
  /** Where rendered system files go: "/" on the appliance. */
  root: string;
  /** Restart the daemons that read storage (on the appliance itself). */
  restart: boolean;
  say: (line: string) => void;
}

export interface JoinOptions extends MembershipOptions {
  url: string;
  caFile: string;
  /** Copy this node's held messages into the shared quarantine; asked when undefined and there are some. */
  copyQuarantine: boolean | undefined;
  ask: (question: string) => Promise<boolean>;
  /** How long to wait for the node's first heartbeat after the restart. */
  heartbeatTimeoutMs?: number;
}

/** The daemons that open storage, in the order apply restarts them (spamd reads the Bayes store's settings). */
export function storageUnits(config: AppConfig): string[] {
  return [
    'spamd',
    'mailfilter-filter',
    ...(config.viewer.enabled ? ['mailfilter-viewer'] : []),
    ...(config.mail.mode === 'fetchmail' ? ['mailfilter-fetch'] : []),
    // Greylisting's memory is in the shared database too.
    ...(config.greylist.enabled ? ['mailfilter-policy'] : []),
  ];
}

async function restartUnits(config: AppConfig, options: MembershipOptions): Promise<void> {
  const units = storageUnits(config);
  if (!options.restart) {
    options.say(`Not restarting anything (--no-restart): restart ${units.join(', ')} for the change to take effect.`);
    return;
  }
  for (const unit of units) {
    try {
      await run('systemctl', ['restart', unit], { timeout: 120_000 });
    } catch (err) {
      const reason = (err as Error & { stderr?: string }).stderr?.trim() || (err as Error).message;
      throw new Error(`restarting ${unit} failed: ${reason}\n  \`journalctl -u ${unit} -n 50\` tells why`);
    }
    options.say(`Restarted ${unit}.`);
  }
}

/** Messages held in this node's own quarantine (SQLite), without creating it when there is none. */
async function heldHere(config: AppConfig): Promise<number> {
  if (!existsSync(join(config.quarantine.dir, QUARANTINE_DATABASE))) return 0;
  const local = QuarantineStore.open(config.quarantine.dir, config.quarantine.maxSizeMb);
  try {
    return await local.count();
  } finally {
    await local.close();
  }
}

export async function joinCluster(options: JoinOptions): Promise<ClusterNode> {
  const { say } = options;
  const before = loadConfig(options.configPath);
  const storage: AppConfig['storage'] = { backend: 'postgresql', url: options.url, caFile: options.caFile };
  if (before.storage.backend === 'postgresql' && before.storage.url !== options.url)
    throw new SharedDatabaseError(
      `this node already shares ${maskedUrl(before.storage.url)}: run \`mailfilter cluster leave\` first, then join the other database`,
    );
  say(`Connecting to ${maskedUrl(options.url)} ...`);
  const state = await inspectSharedDatabase(storage);
  say(schemaLine(state));
  if (state.verdict === 'newer') throw new SharedDatabaseError(newerSchemaProblem(state));
  for (const node of state.nodes) say(`  ${nodeLine(node, state.now)}`);
  const name = before.network.hostname;
  const namesake = state.nodes.find((n) => n.name === name);
  if (namesake?.alive && before.storage.backend !== 'postgresql')
    throw new SharedDatabaseError(
      `a node named ${name} is already there and up: every node needs a host name of its own (network.hostname, \`mailfilter configure\`)`,
    );

  // Asked before anything changes: an answer missing leaves the database as it was found.
  const copy = await decideQuarantineCopy(before, options);
  const db = openSharedDatabase(storage, 'mailfilter-join', 2);
  try {
    if (state.verdict !== 'same') {
      // Kysely's Migrator holds the lock in the database: a node starting meanwhile waits for it.
      await migrateShared(db).catch((err: unknown) => {
        throw connectionProblem(err, storage);
      });
      say(`Schema brought to version ${SHARED_SCHEMA_VERSION}.`);
    }
    if (copy) await copyApplianceToShared(before, db, say);

    const after = writeStorageSettings(options.configPath, storage);
    say(`Wrote storage.backend "postgresql", storage.url and storage.caFile into ${options.configPath}; the node's own settings are unchanged.`);
    for (const path of await renderStorageFiles(before, after, options.root)) say(`Wrote ${path}.`);
    const since = await databaseClock(db);
    await restartUnits(after, options);
    say(`Waiting for ${name}'s heartbeat (its filter writes one at start and every ${HEARTBEAT_INTERVAL_MS / 1000} s) ...`);
    const node = await waitForHeartbeat(db, name, since, options.heartbeatTimeoutMs ?? 120_000);
    say(`Joined: ${nodeLine(node, await databaseClock(db))}`);
    return node;
  } finally {
    await db.destroy();
  }
}

/** Whether to copy this node's held messages into the shared quarantine (only asked when it holds some). */
async function decideQuarantineCopy(config: AppConfig, options: JoinOptions): Promise<boolean> {
  if (config.storage.backend === 'postgresql') return false;
  const held = await heldHere(config);
  const accounts = viewerAccountsHere(config);
  if (held === 0 && accounts === 0) return false;
  const what = `${held} message(s) in its own quarantine${accounts > 0 ? ` and ${accounts} viewer account(s) with their lists, requests and audit log` : ''}`;
  const copy = options.copyQuarantine ?? (await options.ask(`This node holds ${what}. Copy them into the shared database? (Yes/No) [Yes]`));
  if (!copy)
    options.say(
      `Not copying: the ${held} message(s) stay in ${config.quarantine.dir}${accounts > 0 ? ` and the viewer's database in ${config.viewer.dataDir}` : ''}, seen again only if this node leaves.`,
    );
  return copy;
}

/** Accounts in this node's own viewer.sqlite, without creating it when there is none. */
function viewerAccountsHere(config: AppConfig): number {
  const path = viewerDatabasePath(config.viewer.dataDir);
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function databaseClock(db: Parameters<typeof listNodes>[0]): Promise<number> {
  return (await sql<{ now: number }>`SELECT ${databaseNow} AS now`.execute(db)).rows[0]!.now;
}

/** The node's first heartbeat after `since` (database clock): its filter started with the new settings. */
async function waitForHeartbeat(db: Parameters<typeof listNodes>[0], name: string, since: number, timeoutMs: number): Promise<ClusterNode> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const node = (await listNodes(db)).find((n) => n.name === name && n.startedAt >= since);
    if (node) return node;
    if (Date.now() > deadline)
      throw new Error(
        `no heartbeat from ${name} within ${Math.round(timeoutMs / 1000)} s: the settings are written, but its filter has not reached the database. \`journalctl -u mailfilter-filter -n 50\` tells why; \`mailfilter cluster nodes\` shows when it does`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function leaveCluster(options: MembershipOptions): Promise<void> {
  const { say } = options;
  const before = loadConfig(options.configPath);
  if (before.storage.backend !== 'postgresql') throw new SharedDatabaseError('this node shares no database (storage.backend is "sqlite")');
  const after = writeStorageSettings(options.configPath, { ...before.storage, backend: 'sqlite' });
  say(`Wrote storage.backend "sqlite" into ${options.configPath} (storage.url is kept for a later join or \`storage migrate\`).`);
  for (const path of await renderStorageFiles(before, after, options.root)) say(`Wrote ${path}.`);
  await restartUnits(after, options);

  // After the restart: a filter still on the shared database would write the row again.
  const db = openSharedDatabase(before.storage, 'mailfilter-leave', 1);
  try {
    const removed = await forgetNode(db, before.network.hostname);
    const held = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages`.execute(db)).rows[0]!.n;
    say(`${before.network.hostname} is ${removed ? 'off' : 'not on'} the list of nodes.`);
    say(
      `What stays in the shared database: its quarantine (${held} message(s), those held through this node included; the other nodes still show and release them), the Bayes data and the other nodes.`,
    );
  } catch (err) {
    say(
      `The shared database could not be reached (${connectionProblem(err, before.storage).message}): remove this node's row later with \`mailfilter cluster forget ${before.network.hostname}\` on another node.`,
    );
  } finally {
    await db.destroy();
  }
  say(`This node now keeps its own quarantine in ${after.quarantine.dir} again (what it held before joining is there).`);
}

/** `mailfilter cluster nodes`: every node with its last heartbeat, release and queue. */
export async function showNodes(config: AppConfig, say: (line: string) => void): Promise<ClusterNode[]> {
  const state = await sharedState(config);
  say(schemaLine(state));
  if (state.nodes.length === 0) say('No node has written a heartbeat yet.');
  for (const node of state.nodes) say(nodeLine(node, state.now));
  return state.nodes;
}

/** `mailfilter cluster forget NAME`: a dead node's row off the list; a live one only with --force. */
export async function forgetClusterNode(config: AppConfig, name: string, force: boolean, say: (line: string) => void): Promise<void> {
  const state = await sharedState(config);
  const node = state.nodes.find((n) => n.name === name);
  if (!node) throw new SharedDatabaseError(`no node named ${name} (listed: ${state.nodes.map((n) => n.name).join(', ') || 'none'})`);
  if (name === config.network.hostname)
    throw new SharedDatabaseError(`${name} is this node: \`mailfilter cluster leave\` takes it out (its filter would otherwise write the row again)`);
  if (node.alive && !force)
    throw new SharedDatabaseError(
      `${nodeLine(node, state.now)}: it is running. Run \`mailfilter cluster leave\` on it, or stop it and try again (--force removes the row anyway; a running node writes it again)`,
    );
  const db = openSharedDatabase(config.storage, 'mailfilter-forget', 1);
  try {
    await forgetNode(db, name);
  } finally {
    await db.destroy();
  }
  say(`${name} is off the list of nodes. Its held messages stay in the shared quarantine.`);
}

async function sharedState(config: AppConfig) {
  if (config.storage.backend !== 'postgresql')
    throw new SharedDatabaseError('this node shares no database (storage.backend is "sqlite"); `mailfilter cluster join <url>` joins one');
  const state = await inspectSharedDatabase(config.storage);
  if (state.verdict === 'newer') throw new SharedDatabaseError(newerSchemaProblem(state));
  return state;
}
