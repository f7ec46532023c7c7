// The storage section: SQLite by default; PostgreSQL needs a connection string, and off loopback
// that string cannot turn TLS off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, parseConfig } from '../../../runtime/config/load.js';
import { parsePostgresUrl } from '../../../runtime/config/fields.js';

test('storage is SQLite unless the config says postgresql, which needs a connection string', () => {
  assert.equal(defaultConfig().storage.backend, 'sqlite');
  assert.throws(() => parseConfig({ storage: { backend: 'postgresql' } }), /storage\.url: required when storage\.backend is "postgresql"/);
  const config = parseConfig({
    storage: { backend: 'postgresql', url: 'postgresql://mf:secret@db.company.local/mailfilter', caFile: '/etc/mailfilter/db-ca.pem' },
  });
  assert.equal(config.storage.url, 'postgresql://mf:secret@db.company.local/mailfilter');
});

test('a connection string off loopback cannot turn TLS off; on loopback it may', () => {
  assert.throws(
    () => parseConfig({ storage: { backend: 'postgresql', url: 'postgresql://mf:secret@10.0.0.5/mailfilter?sslmode=disable' } }),
    /storage\.url: must reach 10\.0\.0\.5 over TLS/,
  );
  assert.throws(() => parseConfig({ storage: { url: 'mysql://x@db/y' } }), /must be a PostgreSQL connection string/);
  assert.throws(() => parseConfig({ storage: { url: 'db.company.local' } }), /must look like postgresql:\/\//);
  assert.deepEqual(parsePostgresUrl('postgres://mf:p%40ss@[::1]:6432/?sslmode=disable'), {
    host: '::1',
    port: 6432,
    user: 'mf',
    password: 'p@ss',
    database: 'mf',
    plain: true,
  });
  assert.equal(parsePostgresUrl('postgresql://mf@localhost/q').plain, false, 'TLS unless turned off');
});
