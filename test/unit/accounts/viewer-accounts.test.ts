// Viewer accounts on one appliance's viewer.sqlite: the contract the shared PostgreSQL passes too.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openViewerDatabase, viewerKysely } from '../../../runtime/storage/viewer-db.js';
import { viewerAccountsContract } from '../../support/viewer-accounts-contract.js';

viewerAccountsContract('SQLite', async () => {
  const db = viewerKysely(openViewerDatabase(mkdtempSync(join(tmpdir(), 'accounts-'))));
  return { db, close: () => db.destroy() };
});
