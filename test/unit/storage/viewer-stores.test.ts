// The viewer's stores on one appliance's viewer.sqlite: the contract they also pass on the shared
// PostgreSQL, with the viewer's connection as A and a second one (the filter's) as B.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openViewerDatabase, viewerDatabasePath, viewerKysely } from '../../../runtime/storage/viewer-db.js';
import { viewerStoresContract } from '../../support/viewer-stores-contract.js';

viewerStoresContract('SQLite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'viewer-stores-'));
  const a = viewerKysely(openViewerDatabase(dataDir));
  const second = new Database(viewerDatabasePath(dataDir), { fileMustExist: true });
  second.pragma('busy_timeout = 2000');
  const b = viewerKysely(second);
  return {
    a,
    b,
    async close() {
      await Promise.all([a.destroy(), b.destroy()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
