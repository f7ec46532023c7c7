// The viewer's database as the config says: this appliance's own viewer.sqlite, or the one several
// appliances share in PostgreSQL (one login, one set of lists, settings and audit for the cluster).
import type { AppConfig } from '../config/schema.js';
import { keepMigrating } from './keep-migrating.js';
import { openSharedDatabase } from './shared-schema.js';
import { openViewerDatabase, viewerKysely, type ViewerDatabase } from './viewer-db.js';

export interface OpenViewerDatabase {
  db: ViewerDatabase;
  close(): Promise<void>;
}

export async function openViewerDb(config: AppConfig, applicationName = 'mailfilter-viewer'): Promise<OpenViewerDatabase> {
  if (config.storage.backend === 'sqlite') {
    const db = viewerKysely(openViewerDatabase(config.viewer.dataDir));
    return { db, close: () => db.destroy() };
  }
  const shared = openSharedDatabase(config.storage, applicationName);
  const migration = keepMigrating(shared);
  await migration.firstTry;
  return {
    // The shared tables include the viewer's: the same handle, seen through the viewer's tables only.
    db: shared as unknown as ViewerDatabase,
    async close() {
      migration.stop();
      await shared.destroy();
    },
  };
}
