// An appliance upgraded from the last release keeps its users, lists, settings, audit log and
// quarantine: databases made with that release's schema (test/fixtures/release-8e69476, copied
// from its source) are filled, then opened by today's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteAccounts } from '../../support/viewer-accounts-contract.js';
import { hashPassword, verifyPassword } from '../../../runtime/accounts/passwords.js';
import { SenderLists } from '../../../runtime/lists/sender-lists.js';
import { AuditLog } from '../../../runtime/actions/audit.js';
import { ViewerSettings } from '../../../runtime/actions/settings.js';
import { ReleaseRequests } from '../../../runtime/actions/release-requests.js';
import { UsedTokens } from '../../../runtime/actions/tokens.js';
import { QuarantineStore } from '../../../runtime/quarantine/store.js';
import { openViewerDatabase, viewerDatabasePath, viewerKysely, VIEWER_MIGRATIONS } from '../../../runtime/storage/viewer-db.js';
import { openQuarantineDatabase, QUARANTINE_DATABASE, QUARANTINE_MIGRATIONS } from '../../../runtime/storage/quarantine-db.js';
import { schemaVersion } from '../../../runtime/storage/migrate.js';

const releaseSql = (name: string) => readFileSync(new URL(`../../fixtures/release-8e69476/${name}`, import.meta.url), 'utf8');

/** Every table's columns and every index, as SQLite reports them: equal when two files have one schema. */
function schemaOf(db: Database.Database): unknown {
  const objects = db
    .prepare<[], { type: string; name: string; tbl_name: string }>(
      "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )
    .all();
  return objects.map((o) => ({
    ...o,
    columns: o.type === 'table' ? db.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info('${o.name}')`).all() : undefined,
    indexed: o.type === 'index' ? db.prepare(`SELECT name FROM pragma_index_info('${o.name}')`).all() : undefined,
    foreignKeys: o.type === 'table' ? db.prepare(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list('${o.name}')`).all() : undefined,
  }));
}

function freshSchema(open: (dir: string) => Database.Database): unknown {
  const db = open(mkdtempSync(join(tmpdir(), 'fresh-')));
  try {
    return schemaOf(db);
  } finally {
    db.close();
  }
}

async function releaseViewerDatabase(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'viewer-release-'));
  const db = new Database(viewerDatabasePath(dataDir));
  db.pragma('journal_mode = WAL');
  db.exec(releaseSql('viewer.sql'));
  const now = Date.now();
  db.prepare(
    "INSERT INTO users (id, username, password_hash, source, is_admin, must_change_password) VALUES (1, 'vadmin', ?, 'local', 1, 0), (2, 'alice', ?, 'local', 0, 0), (3, 'bob', NULL, 'ldap', 0, 0)",
  ).run(await hashPassword('vadmin-chosen-pw'), await hashPassword('alice-password'));
  db.exec(`INSERT INTO addresses VALUES ('alice@company.com', 2), ('a@company.com', 2), ('bob@company.com', 3);
    INSERT INTO sessions VALUES ('${createHash('sha256').update('alices-cookie').digest('hex')}', 2, 'csrf', ${now + 3600_000});
    INSERT INTO sender_lists (owner_id, kind, pattern, expires_at, created_by, created_at) VALUES
      (2, 'allow', 'news@partner.example', NULL, 'alice', ${now}), (NULL, 'block', '*@spam.example', NULL, 'vadmin', ${now});
    INSERT INTO audit (at, actor, action, message_id, detail, client) VALUES
      (${now - 2000}, 'vadmin', 'user-create', '', 'alice for alice@company.com', '10.0.0.1'),
      (${now - 1000}, 'alice', 'release', 'msg-1', 'to alice@company.com', '10.0.0.2');
    INSERT INTO release_requests (message_id, user_id, recipients, requested_at) VALUES ('msg-2', 2, 'alice@company.com', ${now});
    INSERT INTO settings VALUES ('digestFrequency', 'weekly'), ('selfRelease', 'SPAM');
    INSERT INTO digest_state VALUES (2, 'off', ${now - 86400_000});
    INSERT INTO used_tokens VALUES ('nonce-1', ${now}, ${now + 86400_000});`);
  db.close();
  return dataDir;
}

test('a viewer database made by the last release is migrated, keeping users, addresses, lists, requests, settings and audit', async () => {
  const dataDir = await releaseViewerDatabase();
  const { accounts, raw: db, close } = await openSqliteAccounts(dataDir);
  assert.equal(schemaVersion(db), VIEWER_MIGRATIONS.length);
  assert.deepEqual(schemaOf(db), freshSchema(openViewerDatabase), 'the same schema as a new appliance’s');

  assert.deepEqual(
    (await accounts.list()).map((u) => [u.username, u.source, u.addresses]),
    [
      ['vadmin', 'local', []],
      ['alice', 'local', ['a@company.com', 'alice@company.com']],
      ['bob', 'ldap', ['bob@company.com']],
    ],
  );
  assert.ok(await verifyPassword('alice-password', (await accounts.findByName('alice'))!.passwordHash!), 'her password still works');
  assert.equal(await accounts.adminPasswordIsInitial(), false, 'vadmin keeps the password chosen, and is not made again');
  assert.equal((await accounts.findByAddress('bob@company.com'))?.username, 'bob');
  assert.equal(await accounts.session('alices-cookie'), undefined, 'a session from before absolute lifetimes ends');

  const viewerDb = viewerKysely(db);
  const lists = new SenderLists(viewerDb);
  assert.equal((await lists.match('alice@company.com', ['news@partner.example']))?.list, 'alice');
  assert.equal((await lists.match('bob@company.com', ['x@spam.example']))?.kind, 'block');
  const audit = new AuditLog(viewerDb);
  assert.deepEqual(
    (await audit.list({ limit: 10, offset: 0 })).map((r) => [r.actor, r.action, r.messageId]),
    [
      ['alice', 'release', 'msg-1'],
      ['vadmin', 'user-create', ''],
    ],
  );
  await audit.record({ actor: 'alice', action: 'view', messageId: 'msg-1', client: '10.0.0.2' });
  assert.equal(await audit.count(), 3, 'and it goes on being appended to');
  const settings = new ViewerSettings(viewerDb);
  assert.deepEqual(await settings.admin(), { digestFrequency: 'weekly', selfRelease: ['SPAM'] });
  assert.equal(await settings.effectiveFrequency(2), 'off');
  assert.deepEqual(
    (await new ReleaseRequests(viewerDb).pending()).map((r) => [r.messageId, r.username, r.recipients]),
    [['msg-2', 'alice', ['alice@company.com']]],
  );
  assert.notEqual(await new UsedTokens(viewerDb).usedAt('nonce-1'), null, 'a used digest link stays used');

  // Sessions made now have their absolute lifetime.
  const { token } = await accounts.createSession(2);
  assert.equal((await accounts.session(token))?.user.username, 'alice');
  await close();

  const again = await openSqliteAccounts(dataDir);
  assert.equal((await again.accounts.list()).length, 3, 'opened again: nothing to do, nothing lost');
  assert.equal(schemaVersion(again.raw), VIEWER_MIGRATIONS.length);
  await again.close();
});

test('a viewer database from between the release and versioned schemas (user_version 0, created_at already there) is migrated too', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'viewer-unversioned-'));
  const made = openViewerDatabase(dataDir);
  made.pragma('user_version = 0');
  made.close();
  const { raw, close } = await openSqliteAccounts(dataDir);
  assert.equal(schemaVersion(raw), VIEWER_MIGRATIONS.length);
  assert.deepEqual(schemaOf(raw), freshSchema(openViewerDatabase));
  await close();
});

test('a database from a newer release is refused in words, and left as it was', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'viewer-newer-'));
  const made = openViewerDatabase(dataDir);
  made.pragma(`user_version = ${VIEWER_MIGRATIONS.length + 1}`);
  made.close();
  assert.throws(() => openViewerDatabase(dataDir), /viewer\.sqlite has schema version \d+, newer than this release knows/);
  const db = new Database(viewerDatabasePath(dataDir));
  assert.equal(schemaVersion(db), VIEWER_MIGRATIONS.length + 1);
  db.close();
});

test('a quarantine index made by the last release is migrated, keeping messages, recipients and statistics', async () => {
  const quarantineDir = mkdtempSync(join(tmpdir(), 'quarantine-release-'));
  mkdirSync(join(quarantineDir, 'messages'));
  const db = new Database(join(quarantineDir, QUARANTINE_DATABASE));
  db.exec(releaseSql('quarantine.sql'));
  db.exec(`INSERT INTO messages VALUES ('old-1', 1000, 'x@example.net', 'X <x@example.net>', 'alice@company.com', 'old one', 'SPAM', 'score=9', 10, 'messages/old-1.eml', 5000, 'alice');
    INSERT INTO recipients VALUES ('old-1', 'alice@company.com'), ('old-1', 'bob@company.com');
    INSERT INTO daily_outcomes VALUES ('2024-05-01', 'CLEAN', 40), ('2024-05-01', 'SPAM', 2);`);
  db.close();

  const store = QuarantineStore.open(quarantineDir, 1);
  const entry = await store.get('old-1');
  assert.equal(entry?.subject, 'old one');
  assert.deepEqual(entry?.recipients, ['alice@company.com', 'bob@company.com']);
  assert.deepEqual(entry?.releases, [], 'the old per-message mark never said for whom: nobody’s copy is hidden');
  assert.deepEqual(await store.dailyOutcomes('2024-01-01'), [
    { day: '2024-05-01', outcome: 'CLEAN', count: 40 },
    { day: '2024-05-01', outcome: 'SPAM', count: 2 },
  ]);
  await store.markReleased('old-1', ['bob@company.com'], 'bob');
  assert.deepEqual(
    (await store.get('old-1'))?.releases.map((r) => r.address),
    ['bob@company.com'],
  );
  await store.close();

  const migrated = openQuarantineDatabase(quarantineDir);
  assert.equal(schemaVersion(migrated), QUARANTINE_MIGRATIONS.length);
  assert.deepEqual(schemaOf(migrated), freshSchema(openQuarantineDatabase), 'the same schema as a new quarantine’s');
  migrated.close();
});

test('duplicate list entries (two viewers adding one at once) are made one on upgrade: the newest stays, whatever its kind', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'viewer-duplicates-'));
  const made = new Database(viewerDatabasePath(dataDir));
  made.exec(releaseSql('viewer.sql'));
  made.exec(`INSERT INTO users (id, username) VALUES (1, 'vadmin'), (2, 'alice'), (3, 'bob');
    INSERT INTO addresses VALUES ('alice@company.com', 2), ('bob@company.com', 3);
    INSERT INTO sender_lists (id, owner_id, kind, pattern, expires_at, created_by, created_at) VALUES
      (1, 2, 'allow', 'news@partner.example', NULL, 'alice', 1000),
      (2, 2, 'allow', 'news@partner.example', NULL, 'alice', 1001),
      (3, 2, 'allow', 'x@spam.example', NULL, 'alice', 2000),
      (4, 2, 'block', 'x@spam.example', 9000000000000, 'alice', 2005),
      (5, NULL, 'block', '*@spam.example', NULL, 'vadmin', 3000),
      (6, NULL, 'block', '*@spam.example', NULL, 'vadmin', 3000),
      (7, 2, 'allow', '*@spam.example', NULL, 'alice', 3000),
      (8, 3, 'allow', '*@spam.example', NULL, 'bob', 3000);`);
  made.close();

  const db = openViewerDatabase(dataDir);
  assert.equal(schemaVersion(db), VIEWER_MIGRATIONS.length);
  assert.deepEqual(
    db.prepare('SELECT id, owner_id, kind, pattern, expires_at FROM sender_lists ORDER BY id').all(),
    [
      { id: 2, owner_id: 2, kind: 'allow', pattern: 'news@partner.example', expires_at: null },
      { id: 4, owner_id: 2, kind: 'block', pattern: 'x@spam.example', expires_at: 9000000000000 },
      { id: 6, owner_id: null, kind: 'block', pattern: '*@spam.example', expires_at: null },
      { id: 7, owner_id: 2, kind: 'allow', pattern: '*@spam.example', expires_at: null },
      { id: 8, owner_id: 3, kind: 'allow', pattern: '*@spam.example', expires_at: null },
    ],
    'one per list and pattern: the later decision (block after allow), the higher id at one instant; other lists keep theirs',
  );
  assert.throws(
    () => db.prepare("INSERT INTO sender_lists (owner_id, kind, pattern, created_by, created_at) VALUES (NULL, 'allow', '*@spam.example', 'x', 4000)").run(),
    /UNIQUE constraint failed/,
    'and a second global entry for a pattern cannot be made either',
  );
  const lists = new SenderLists(viewerKysely(db));
  const readded = await lists.add({ ownerId: 2, kind: 'allow', pattern: 'news@partner.example', expiresAt: null, createdBy: 'alice' });
  assert.equal(readded.id, 2, 'added again: the same entry');
  assert.equal((await lists.list(2)).length, 3);
  assert.deepEqual(schemaOf(db), freshSchema(openViewerDatabase), 'the same schema as a new appliance’s');
  db.close();
});
