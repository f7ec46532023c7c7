// Every POST route of the viewer, found from the app itself: each one that changes anything (the
// viewer's database, the quarantine) writes its audit line, and one without a case here fails the
// test, so a new route cannot forget its line unnoticed. Route files reach no store's write methods.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { startTestViewer, type Page, type TestBrowser, type TestViewer } from './harness.js';

let viewer: TestViewer;
let admin: TestBrowser;
let alice: TestBrowser;

const userId = async (name: string) => (await viewer.services.accounts.findByName(name))!.id;

before(async () => {
  viewer = await startTestViewer();
  const { accounts } = viewer.services;
  await accounts.setPassword(await userId('vadmin'), 'admin-password-1');
  for (const name of ['alice', 'carol', 'dave'])
    await accounts.create({ username: name, password: `${name}-password-1`, source: 'local', addresses: [`${name}@company.local`] });
  const spam = (id: string, to = 'alice@company.local') => viewer.addMessage({ id, recipients: [to], headerFrom: `sender-${id}@example.net` });
  for (const id of ['m-bulk', 'm-download', 'm-release', 'm-not-spam', 'm-block', 'm-delete', 'm-link', 'm-left']) await spam(id);
  await spam('m-dave', 'dave@company.local');
  for (const id of ['m-virus-1', 'm-virus-2'])
    await viewer.addMessage({ id, recipients: ['alice@company.local'], reason: 'VIRUS', detail: 'Eicar-Test-Signature' });
  admin = viewer.browser('10.9.0.1');
  await admin.login('vadmin', 'admin-password-1');
  alice = viewer.browser('10.9.0.2');
  await alice.login('alice', 'alice-password-1');
});

interface Case {
  /** The path as the app declares it (app.routes). */
  route: string;
  /** What the audit line's action is. */
  action: string;
  /** False for the POSTs that only read (a download), audited all the same. */
  changes?: boolean;
  /** Done before the state is compared: what the case needs, not what it proves. */
  prepare?: () => Promise<void>;
  run: () => Promise<Page>;
}

const pendingRequest = async (messageId: string) => (await viewer.services.requests.pending()).find((r) => r.messageId === messageId)!.id;
let carol: TestBrowser;
let dave: TestBrowser;
let leaving: TestBrowser;

/** In order: the administrator's clearing of the whole quarantine comes last. */
const CASES: Case[] = [
  { route: '/viewer/login', action: 'login', run: () => viewer.browser('10.9.0.3').login('alice', 'alice-password-1') },
  {
    route: '/viewer/logout',
    action: 'logout',
    prepare: async () => void (await (leaving = viewer.browser('10.9.0.4')).login('alice', 'alice-password-1')),
    run: () => leaving.post('/viewer/logout'),
  },
  {
    route: '/viewer/account/password',
    action: 'password-change',
    prepare: async () => void (await (carol = viewer.browser('10.9.0.5')).login('carol', 'carol-password-1')),
    run: () => carol.post('/viewer/account/password', { current: 'carol-password-1', next: 'carol-password-2', again: 'carol-password-2' }),
  },
  { route: '/viewer/messages/bulk', action: 'delete', run: () => alice.post('/viewer/messages/bulk', { action: 'delete', id: 'm-bulk' }) },
  {
    route: '/viewer/messages/delete-all',
    action: 'delete-all',
    prepare: async () => void (await (dave = viewer.browser('10.9.0.6')).login('dave', 'dave-password-1')),
    run: () => dave.post('/viewer/messages/delete-all'),
  },
  { route: '/viewer/messages/:id/download', action: 'download', changes: false, run: () => alice.post('/viewer/messages/m-download/download') },
  ...(['release', 'not-spam', 'block-sender', 'delete'] as const).map((action) => ({
    route: '/viewer/messages/:id/:action{release|not-spam|block-sender|delete}',
    action,
    run: () =>
      alice.post(`/viewer/messages/${{ release: 'm-release', 'not-spam': 'm-not-spam', 'block-sender': 'm-block', delete: 'm-delete' }[action]}/${action}`),
  })),
  {
    route: '/viewer/messages/:id/:action{release|not-spam|block-sender|delete}',
    action: 'request',
    run: () => alice.post('/viewer/messages/m-virus-1/release'),
  },
  { route: '/viewer/account/digest', action: 'digest-setting', run: () => alice.post('/viewer/account/digest', { frequency: 'weekly' }) },
  {
    route: '/viewer/admin/settings',
    action: 'settings',
    run: () => admin.post('/viewer/admin/settings', { digestFrequency: 'weekly', self_SPAM: '1', self_BADH: '1' }),
  },
  {
    route: '/viewer/admin/requests/:id/:decision{approve|deny}',
    action: 'approve',
    run: async () => admin.post(`/viewer/admin/requests/${await pendingRequest('m-virus-1')}/approve`),
  },
  {
    route: '/viewer/admin/requests/:id/:decision{approve|deny}',
    action: 'deny',
    prepare: async () => void (await alice.post('/viewer/messages/m-virus-2/release')),
    run: async () => admin.post(`/viewer/admin/requests/${await pendingRequest('m-virus-2')}/deny`),
  },
  {
    route: '/viewer/admin/users/new',
    action: 'user-create',
    run: () => admin.post('/viewer/admin/users/new', { username: 'erin', password: 'erin-password-1', addresses: 'erin@company.local' }),
  },
  {
    route: '/viewer/admin/users/:id',
    action: 'user-edit',
    run: async () => admin.post(`/viewer/admin/users/${await userId('erin')}`, { addresses: 'erin@company.local\nerin.b@company.local', frequency: 'off' }),
  },
  { route: '/viewer/admin/users/:id/delete', action: 'user-delete', run: async () => admin.post(`/viewer/admin/users/${await userId('erin')}/delete`) },
  {
    route: '/viewer/a/:token',
    action: 'delete',
    run: async () => {
      const token = viewer.services.tokens.sign({ action: 'delete', messageId: 'm-link', userId: await userId('alice'), expiresAt: Date.now() + 3600_000 });
      return viewer.browser('10.9.0.7').request(`/viewer/a/${token}`, { form: {} });
    },
  },
  { route: '/viewer/lists/add', action: 'list-add', run: () => alice.post('/viewer/lists/add', { pattern: 'friend@example.org', kind: 'allow' }) },
  {
    route: '/viewer/lists/:id/delete',
    action: 'list-remove',
    run: async () =>
      alice.post(`/viewer/lists/${(await viewer.services.lists.list(await userId('alice'))).find((e) => e.pattern === 'friend@example.org')!.id}/delete`),
  },
  { route: '/viewer/admin/clear', action: 'clear', run: () => admin.post('/viewer/admin/clear') },
];

/**
 * Everything an action may change, but the audit log itself and the bookkeeping every request
 * does: a session's sliding expiry, the login limits' counts.
 */
async function state(): Promise<string> {
  const { db } = viewer.services.accounts;
  const tables = await sql<{
    name: string;
  }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('audit', 'failed_logins') ORDER BY name`.execute(db);
  const rows = [];
  for (const { name } of tables.rows) {
    const query = name === 'sessions' ? 'SELECT token_hash, user_id FROM sessions ORDER BY 1' : `SELECT * FROM ${name} ORDER BY 1`;
    rows.push([name, (await sql.raw(query).execute(db)).rows]);
  }
  return JSON.stringify([rows, await viewer.services.store.list({ limit: 1_000_000 })]);
}

const lastAuditId = async () =>
  (
    await viewer.services.accounts.db
      .selectFrom('audit')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst()
  )?.id ?? 0;

test('every POST route of the viewer has a case in this test', () => {
  const posts = new Set(viewer.app.routes.filter((r) => r.method === 'POST').map((r) => r.path));
  assert.ok(posts.size > 10, 'routes found from the app');
  assert.deepEqual([...posts].sort(), [...new Set(CASES.map((c) => c.route))].sort());
});

test('each POST writes its audit line, and each one that changes anything changes it', async () => {
  for (const c of CASES) {
    const label = `${c.route} (${c.action})`;
    await c.prepare?.();
    const before = await state();
    const since = await lastAuditId();
    const page = await c.run();
    assert.ok(page.status < 400, `${label}: answered ${page.status}: ${page.text.slice(0, 300)}`);
    const lines = await viewer.services.accounts.db.selectFrom('audit').select(['action', 'actor']).where('id', '>', since).execute();
    assert.ok(
      lines.some((l) => l.action === c.action),
      `${label}: audit lines written: ${JSON.stringify(lines)}`,
    );
    if (c.changes === false) assert.equal(await state(), before, `${label}: changes nothing`);
    else assert.notEqual(await state(), before, `${label}: the case changes something, so its line is proved`);
  }
});

test('route files reach no store’s write methods: state changes go through runtime/actions', () => {
  const routes = new URL('../../../runtime/viewer/routes/', import.meta.url);
  const writes =
    /\b(audit\.record\w*|lists\.(add|remove)|settings\.(save\w*|set\w*)|accounts\.(create\w*|delete\w*|set\w*|end\w*)|store\.(add|delete\w*|remove\w*|markReleased)|usedTokens\.(use|release)|requests\.(request|decide|reopen))\(/g;
  for (const file of readdirSync(routes)) {
    const found = readFileSync(new URL(file, routes), 'utf8').match(writes);
    assert.equal(found, null, `${file} writes directly: ${found?.join(', ')}`);
  }
});
