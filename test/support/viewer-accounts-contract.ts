// What viewer accounts do, whichever database holds them: the same cases run against one
// appliance's viewer.sqlite (test/unit/accounts/viewer-accounts.test.ts) and the shared PostgreSQL
// (test/integration/cluster-viewer-accounts.test.ts), so the two cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Database from 'better-sqlite3';
import { AddressTakenError, ViewerAccounts } from '../../runtime/accounts/viewer-accounts.js';
import { localAuthenticator } from '../../runtime/accounts/authenticate.js';
import { reserveLoginAttempt } from '../../runtime/viewer/login-limits.js';
import { openViewerDatabase, viewerKysely, type ViewerDatabase } from '../../runtime/storage/viewer-db.js';

/** An empty viewer database, and how to give it back; the contract opens the accounts on it. */
export type OpenEmptyViewerDb = () => Promise<{ db: ViewerDatabase; close(): Promise<void> }>;

/**
 * Accounts on a viewer.sqlite of a test's own: `db` for the other stores (one Kysely handle per
 * connection), `raw` only for looking at the file's schema.
 */
export async function openSqliteAccounts(
  dataDir: string,
  sessionHours = 8,
  sessionMaxHours = 24,
): Promise<{ accounts: ViewerAccounts; db: ViewerDatabase; raw: Database.Database; close(): Promise<void> }> {
  const raw = openViewerDatabase(dataDir);
  const db = viewerKysely(raw);
  return { accounts: await ViewerAccounts.open(db, sessionHours, sessionMaxHours), db, raw, close: () => db.destroy() };
}

const HOUR = 3600_000;

export function viewerAccountsContract(backend: string, openEmpty: OpenEmptyViewerDb): void {
  const withAccounts = (name: string, body: (accounts: ViewerAccounts) => Promise<void>): void =>
    void test(`${backend}: ${name}`, async () => {
      const { db, close } = await openEmpty();
      try {
        await body(await ViewerAccounts.open(db, 8, 24));
      } finally {
        await close();
      }
    });

  withAccounts('a new database has vadmin with the initial password, to be changed, made once', async (accounts) => {
    assert.equal(await accounts.adminPasswordIsInitial(), true);
    const admin = await accounts.findByName('vadmin');
    assert.equal(admin?.isAdmin, true);
    assert.equal(admin?.mustChangePassword, true);
    assert.equal((await localAuthenticator(accounts)('vadmin', 'password'))?.username, 'vadmin');
    await accounts.ensureAdmin();
    assert.deepEqual(
      (await accounts.list()).map((u) => u.username),
      ['vadmin'],
      'opened again: no second vadmin',
    );
    await accounts.setPassword(admin!.id, 'a-chosen-password');
    assert.equal(await accounts.adminPasswordIsInitial(), false);
  });

  withAccounts('users are found by name without regard to case, and by address; addresses are stored lower-case', async (accounts) => {
    const alice = await accounts.create({
      username: 'Alice',
      password: 'alice-password',
      source: 'local',
      addresses: [' Alice@Company.COM ', 'a@company.com', ''],
    });
    assert.deepEqual(alice.addresses, ['a@company.com', 'alice@company.com']);
    assert.equal(alice.source, 'local');
    assert.equal(alice.isAdmin, false);
    assert.equal((await accounts.findByName('alice'))?.id, alice.id);
    assert.equal((await accounts.findByName('ALICE'))?.username, 'Alice', 'the name as it was given');
    assert.equal((await accounts.findByName('VADMIN'))?.isAdmin, true);
    assert.equal((await accounts.findByAddress('ALICE@company.com'))?.username, 'Alice');
    assert.equal(await accounts.findByName('al%'), undefined, 'no pattern matching');
    assert.equal(await accounts.findByAddress('nobody@company.com'), undefined);
    assert.equal((await accounts.get(alice.id))?.username, 'Alice');
    assert.equal(await accounts.get(alice.id + 1000), undefined);
    await assert.rejects(
      accounts.create({ username: 'ALICE', password: 'another-password', source: 'local', addresses: [] }),
      'a second user of the same name in other case is refused',
    );
    assert.deepEqual(
      (await accounts.list()).map((u) => u.username),
      ['vadmin', 'Alice'],
      'the administrator first',
    );
  });

  withAccounts('an address has one owner: taken ones are refused and nothing changes', async (accounts) => {
    const alice = await accounts.create({ username: 'alice', password: 'alice-password', source: 'local', addresses: ['alice@company.com'] });
    await assert.rejects(
      accounts.create({ username: 'bob', password: 'bob-password-1', source: 'local', addresses: ['bob@company.com', 'ALICE@company.com'] }),
      (err: unknown) => err instanceof AddressTakenError && err.address === 'alice@company.com' && err.owner === 'alice',
    );
    assert.equal(await accounts.findByName('bob'), undefined, 'the user was not made either (one transaction)');
    assert.equal(await accounts.findByAddress('bob@company.com'), undefined);
    const bob = await accounts.create({ username: 'bob', password: 'bob-password-1', source: 'local', addresses: ['bob@company.com'] });
    await assert.rejects(accounts.setAddresses(bob.id, ['bob.b@company.com', 'alice@company.com']), AddressTakenError);
    assert.deepEqual((await accounts.get(bob.id))?.addresses, ['bob@company.com'], 'a refused change changes nothing');
    await accounts.setAddresses(bob.id, ['Bob.B@company.com', 'bob@company.com']);
    assert.deepEqual((await accounts.get(bob.id))?.addresses, ['bob.b@company.com', 'bob@company.com']);
    await accounts.setAddresses(alice.id, ['alice@company.com', 'ali@company.com']);
    assert.deepEqual((await accounts.get(alice.id))?.addresses, ['ali@company.com', 'alice@company.com'], 'keeping one of her own is no conflict');
  });

  withAccounts('directory users have no password here and go with deleteBySource; vadmin and local users stay', async (accounts) => {
    const dan = await accounts.createDirectoryUser({ username: 'dan@company.local', addresses: ['dan@company.com'] });
    assert.equal(dan.source, 'ldap');
    assert.equal((await accounts.findByName('dan@company.local'))?.passwordHash, null);
    assert.equal(await localAuthenticator(accounts)('dan@company.local', ''), null, 'no local login for a directory user');
    await accounts.create({ username: 'erin', password: 'erin-password-1', source: 'local', addresses: [] });
    assert.equal(await accounts.deleteBySource('ldap'), 1);
    assert.equal(await accounts.findByAddress('dan@company.com'), undefined, 'his addresses went with him');
    assert.deepEqual((await accounts.list()).map((u) => u.username).sort(), ['erin', 'vadmin']);
    await accounts.delete((await accounts.findByName('vadmin'))!.id);
    assert.ok(await accounts.findByName('vadmin'), 'the administrator is never deleted');
  });

  withAccounts('a password is checked and changed; a user deleted loses sessions and addresses', async (accounts) => {
    const frank = await accounts.create({ username: 'frank', password: 'frank-password-1', source: 'local', addresses: ['frank@company.com'] });
    const authenticate = localAuthenticator(accounts);
    assert.equal((await authenticate('FRANK', 'frank-password-1'))?.id, frank.id);
    assert.equal(await authenticate('frank', 'wrong'), null);
    await accounts.setPassword(frank.id, 'frank-password-2');
    assert.equal(await authenticate('frank', 'frank-password-1'), null);
    assert.equal((await authenticate('frank', 'frank-password-2'))?.mustChangePassword, false);
    const { token } = await accounts.createSession(frank.id);
    await accounts.delete(frank.id);
    assert.equal(await accounts.session(token), undefined);
    assert.equal(await accounts.findByAddress('frank@company.com'), undefined);
  });

  withAccounts('sessions: the cookie finds its user, use extends it, it ends unused, at its absolute end, or on logout', async (accounts) => {
    const gina = await accounts.create({ username: 'gina', password: 'gina-password-1', source: 'local', addresses: ['gina@company.com'] });
    const start = Date.now();
    const { token, csrfToken } = await accounts.createSession(gina.id);
    assert.notEqual(token, csrfToken);
    const session = await accounts.session(token);
    assert.equal(session?.user.username, 'gina');
    assert.deepEqual(session?.user.addresses, ['gina@company.com']);
    assert.equal(session?.csrfToken, csrfToken);
    assert.equal(await accounts.session(undefined), undefined);
    assert.equal(await accounts.session('not-a-session'), undefined);
    // 8 hours without use end it; used every 7 hours it lives to its absolute end of 24.
    for (const at of [7, 14, 21]) assert.ok(await accounts.session(token, start + at * HOUR), `alive at ${at} h`);
    assert.equal(await accounts.session(token, start + 24 * HOUR + 60_000), undefined, 'over after 24 h');
    const idle = await accounts.createSession(gina.id);
    assert.equal(await accounts.session(idle.token, Date.now() + 8 * HOUR + 60_000), undefined, 'over after 8 h unused');
    const other = await accounts.createSession(gina.id);
    await accounts.endSession(other.token);
    assert.equal(await accounts.session(other.token), undefined, 'logged out');
    const [a, b] = [await accounts.createSession(gina.id), await accounts.createSession(gina.id)];
    await accounts.endSessionsOf(gina.id);
    assert.equal(await accounts.session(a.token), undefined);
    assert.equal(await accounts.session(b.token), undefined, 'every session of hers');
  });

  withAccounts('failed logins: counted by key, oldest first; one undone by its id; a key cleared', async (accounts) => {
    const now = Date.now();
    const first = await accounts.recordFailure('ip:10.0.0.1', now - 2000);
    const second = await accounts.recordFailure('ip:10.0.0.1', now - 1000);
    await accounts.recordFailure('ip:10.0.0.2', now);
    assert.notEqual(first, second);
    assert.deepEqual(await accounts.failureTimes('ip:10.0.0.1', now - 60_000), [now - 2000, now - 1000]);
    assert.deepEqual(await accounts.failureTimes('ip:10.0.0.1', now - 1500), [now - 1000], 'only since');
    assert.deepEqual(await accounts.failureTimes('ip:10.0.0.1', now - 60_000, second), [now - 2000], 'those counted before the asking attempt');
    await accounts.forgetFailure(first);
    assert.deepEqual(await accounts.failureTimes('ip:10.0.0.1', now - 60_000), [now - 1000]);
    await accounts.clearFailures('ip:10.0.0.1');
    assert.deepEqual(await accounts.failureTimes('ip:10.0.0.1', now - 60_000), []);
    assert.deepEqual(await accounts.failureTimes('ip:10.0.0.2', now - 60_000), [now], 'other keys untouched');
    await accounts.recordFailure('ip:10.0.0.3', now + 25 * HOUR);
    assert.deepEqual(await accounts.failureTimes('ip:10.0.0.2', 0), [], 'a day later they are forgotten');
  });

  withAccounts('login limits: five wrong passwords from one address for one account, then a wait; a right one forgives', async (accounts) => {
    await accounts.create({ username: 'hank', password: 'hank-password-1', source: 'local', addresses: ['hank@company.com'] });
    const now = Date.now();
    for (let i = 0; i < 5; i++) assert.equal((await reserveLoginAttempt(accounts, 'hank', '10.1.0.1', now + i)).allowed, true, `attempt ${i + 1}`);
    const refused = await reserveLoginAttempt(accounts, 'HANK', '10.1.0.1', now + 10);
    assert.equal(refused.allowed, false, 'the sixth, however spelled');
    assert.ok(!refused.allowed && refused.retryAfterSeconds > 800 && refused.retryAfterSeconds <= 900);
    assert.equal((await reserveLoginAttempt(accounts, 'hank@company.com', '10.1.0.2', now + 11)).allowed, true, 'from elsewhere, by address');
    const right = await reserveLoginAttempt(accounts, 'ivy', '10.1.0.3', now);
    assert.ok(right.allowed);
    await right.succeeded();
    assert.deepEqual(await accounts.failureTimes('ip:10.1.0.3', 0), [], 'a right password leaves nothing counted');
  });
}
