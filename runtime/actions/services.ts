// Everything an action on the quarantine needs, opened once per process (viewer, digest run): the
// quarantine, the viewer's database with its lists, requests, settings and audit log, the link
// tokens, and the way back into Postfix. With a shared database all of them go through the
// process's one handle on it.
import type { Kysely } from 'kysely';
import type { AppConfig } from '../config/schema.js';
import type { QuarantineStore } from '../quarantine/store.js';
import { openQuarantine } from '../storage/open-quarantine.js';
import { openSharedHandle } from '../storage/shared-handle.js';
import type { SharedTables } from '../storage/shared-schema.js';
import { openViewerDb, type OpenViewerDatabase } from '../storage/open-viewer.js';
import { listNodes, type ClusterNode } from '../cluster/nodes.js';
import { createReinjector, type Reinjector } from '../mail/reinject.js';
import { ViewerAccounts } from '../accounts/viewer-accounts.js';
import { SenderLists } from '../lists/sender-lists.js';
import { AuditLog } from './audit.js';
import { ReleaseRequests } from './release-requests.js';
import { ViewerSettings } from './settings.js';
import { ActionTokens, loadLinkSecret, sharedLinkSecret, UsedTokens } from './tokens.js';

export interface ActionServices {
  config: AppConfig;
  store: QuarantineStore;
  accounts: ViewerAccounts;
  reinjector: Reinjector;
  lists: SenderLists;
  audit: AuditLog;
  requests: ReleaseRequests;
  settings: ViewerSettings;
  tokens: ActionTokens;
  usedTokens: UsedTokens;
  /** The nodes sharing the database, when storage.backend is postgresql. */
  nodes?: () => Promise<ClusterNode[]>;
  /** Then too: the process's handle on the shared database (the console reads the fetchers' set-aside messages through it, a digest run takes its lease). */
  shared?: Kysely<SharedTables>;
  close(): Promise<void>;
}

/** What an action needs; the process that opened the services closes them. */
export type ActionDeps = Omit<ActionServices, 'close'>;

/** How often a shared database that did not answer is asked again for vadmin. */
const ADMIN_RETRY_MS = 10_000;

/** `processName` names the process's connections to a shared database: the viewer's, or a digest run's. */
export async function openActionServices(config: AppConfig, processName = 'mailfilter-viewer'): Promise<ActionServices> {
  const shared = openSharedHandle(config, {
    name: processName,
    maxConnections: 10,
    whileDown: "users, lists and settings cannot be read or changed until it answers (the viewer shows 'try again shortly')",
  });
  const store = await openQuarantine(config, shared);
  const viewerDb = await openViewerDb(config, shared);
  const accounts = ViewerAccounts.on(viewerDb.db, config.viewer.sessionHours, config.viewer.sessionMaxHours);
  // Links are signed with this appliance's secret file, or in a cluster with the one all nodes share.
  const tokens = new ActionTokens(config.storage.backend === 'sqlite' ? loadLinkSecret(config.viewer.dataDir) : null);
  let retry: NodeJS.Timeout | undefined;
  if (config.storage.backend === 'sqlite') await accounts.ensureAdmin();
  else {
    // A shared database that is down at start does not stop the viewer: it answers with its error
    // page until the database does, and vadmin is made then if the database is new.
    const attempt = (): Promise<void> =>
      Promise.all([accounts.ensureAdmin(), sharedLinkSecret(viewerDb.db).then((secret) => tokens.useSecret(secret))])
        .then(() => undefined)
        .catch((err: unknown) => {
          if (!tokens.ready) tokens.useSecret(null, err);
          retry = setTimeout(() => void attempt(), ADMIN_RETRY_MS).unref();
        });
    await attempt();
  }
  const reinjector = createReinjector({
    host: config.postfix.reinjectHost,
    port: config.postfix.reinjectPort,
    heloName: config.network.hostname,
    maxConnections: 2,
  });
  const services = assembleActionServices({ config, store, viewerDb, accounts, reinjector, tokens });
  if (!shared) return services;
  return {
    ...services,
    nodes: () => listNodes(shared.db),
    shared: shared.db,
    async close() {
      clearTimeout(retry);
      await services.close();
      await shared.close();
    },
  };
}

/** The services around an open quarantine, viewer database, its accounts and a re-injector (tests bring their own). */
export function assembleActionServices(
  parts: Pick<ActionServices, 'config' | 'store' | 'accounts' | 'reinjector'> & { viewerDb: OpenViewerDatabase; tokens?: ActionTokens },
): ActionServices {
  const { config, store, viewerDb, accounts, reinjector } = parts;
  // One handle for every store (the accounts' too): Kysely's SQLite driver takes turns on its
  // connection, and two handles over one connection would not (a transaction of one seen by the other).
  const { db } = viewerDb;
  return {
    config,
    store,
    accounts,
    reinjector,
    lists: new SenderLists(db),
    audit: new AuditLog(db),
    requests: new ReleaseRequests(db),
    settings: new ViewerSettings(db),
    tokens: parts.tokens ?? new ActionTokens(loadLinkSecret(config.viewer.dataDir)),
    usedTokens: new UsedTokens(db),
    async close() {
      reinjector.close();
      await viewerDb.close();
      await store.close();
    },
  };
}

/** The viewer's address as users reach it, for links in mail. */
export function viewerBaseUrl(config: AppConfig): string {
  if (config.viewer.publicUrl) return config.viewer.publicUrl.replace(/\/+$/, '');
  const port = config.viewer.httpsPort === 443 ? '' : `:${config.viewer.httpsPort}`;
  return `https://${config.network.hostname}${port}/viewer`;
}
