// The viewer's database (viewer.sqlite) copied into the shared PostgreSQL by `storage migrate` and
// `cluster join --copy`: users with their addresses, sender lists, the audit log, release requests,
// settings, digest state and used link nonces. Run again, it copies only what is still missing
// (rows are matched by what they hold: ids differ between the two databases). Sessions and failed
// logins are not copied: users log in again.
import { existsSync } from 'node:fs';
import type { Kysely, Selectable } from 'kysely';
import type { SharedTables } from './shared-schema.js';
import { LIST_AND_PATTERN, openViewerDatabase, viewerDatabasePath, viewerKysely, type ViewerDatabase, type ViewerTables } from './viewer-db.js';

/** A row without its id: the shared database numbers its own. */
const withoutId = <T extends { id: number }>({ id: _id, ...values }: T): Omit<T, 'id'> => values;

/** Local user id → the same user's id in the shared database (matched by name, case aside). */
type UserIds = Map<number, number>;

const AUDIT_CHUNK = 1000;

/** Copies viewer.sqlite in `viewerDataDir` (when there is one) into `shared` (migrated), saying what it did. */
export async function copyViewerToShared(viewerDataDir: string, shared: Kysely<SharedTables>, say: (line: string) => void): Promise<void> {
  if (!existsSync(viewerDatabasePath(viewerDataDir))) {
    say('viewer: no viewer database here, nothing to copy');
    return;
  }
  const local = viewerKysely(openViewerDatabase(viewerDataDir));
  // The shared tables include the viewer's (as openViewerDb sees them).
  const target = shared as unknown as ViewerDatabase;
  try {
    const ids = await copyUsers(local, target, say);
    await copyAddresses(local, target, ids, say);
    await copySenderLists(local, target, ids, say);
    await copyAudit(local, target, say);
    await copyReleaseRequests(local, target, ids, say);
    await copyKeyed(local, target, ids, say);
    say('viewer: sessions and failed logins not copied: users log in again');
  } finally {
    await local.destroy();
  }
}

/** Users the shared database lacks; a name it has already keeps the shared account (reported when it differs). */
async function copyUsers(local: ViewerDatabase, shared: ViewerDatabase, say: (line: string) => void): Promise<UserIds> {
  const ids: UserIds = new Map();
  let copied = 0;
  const kept: string[] = [];
  for (const user of await local.selectFrom('users').selectAll().orderBy('id').execute()) {
    const find = () =>
      shared
        .selectFrom('users')
        .selectAll()
        .where((eb) => eb(eb.fn('lower', ['username']), '=', user.username.toLowerCase()))
        .executeTakeFirst();
    let there = await find();
    if (there) {
      if (there.password_hash !== user.password_hash || there.source !== user.source || there.is_admin !== user.is_admin) kept.push(user.username);
    } else {
      await shared
        .insertInto('users')
        .values(withoutId(user))
        .onConflict((oc) => oc.doNothing())
        .execute();
      there = await find();
      if (!there) throw new Error(`viewer: user ${user.username} could not be copied`);
      copied += 1;
    }
    ids.set(user.id, there.id);
  }
  say(`viewer: ${copied} user(s) copied, ${ids.size - copied} already there`);
  if (kept.length > 0)
    say(
      `viewer: ${kept.join(', ')}: an account of that name was already in the shared database and is kept as it is there (its password and source, not this appliance's); this appliance's addresses were added to it where free`,
    );
  return ids;
}

/** Addresses go to the mapped user unless the shared database gives them to another user (reported). */
async function copyAddresses(local: ViewerDatabase, shared: ViewerDatabase, ids: UserIds, say: (line: string) => void): Promise<void> {
  let copied = 0;
  let present = 0;
  const taken: string[] = [];
  for (const row of await local.selectFrom('addresses').selectAll().orderBy('address').execute()) {
    const userId = ids.get(row.user_id)!;
    const result = await shared
      .insertInto('addresses')
      .values({ address: row.address, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) copied += 1;
    else {
      const owner = await shared.selectFrom('addresses').select('user_id').where('address', '=', row.address).executeTakeFirst();
      if (owner?.user_id === userId) present += 1;
      else taken.push(row.address);
    }
  }
  say(`viewer: ${copied} address(es) copied, ${present} already there`);
  if (taken.length > 0) say(`viewer: ${taken.join(', ')}: already another user's address in the shared database, left with that user`);
}

/** An entry for a pattern the shared list has already is left as it is there (reported when it differs). */
async function copySenderLists(local: ViewerDatabase, shared: ViewerDatabase, ids: UserIds, say: (line: string) => void): Promise<void> {
  let copied = 0;
  const kept: string[] = [];
  const rows = await local.selectFrom('sender_lists').selectAll().orderBy('id').execute();
  for (const row of rows) {
    const ownerId = row.owner_id === null ? null : ids.get(row.owner_id)!;
    const result = await shared
      .insertInto('sender_lists')
      .values({ ...withoutId(row), owner_id: ownerId })
      .onConflict((oc) => oc.expression(LIST_AND_PATTERN).doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) {
      copied += 1;
      continue;
    }
    const there = await shared
      .selectFrom('sender_lists')
      .select(['kind', 'expires_at'])
      .where('owner_id', ownerId === null ? 'is' : '=', ownerId)
      .where('pattern', '=', row.pattern)
      .executeTakeFirst();
    if (there?.kind !== row.kind || (there.expires_at === null ? null : Number(there.expires_at)) !== row.expires_at) kept.push(row.pattern);
  }
  say(`viewer: ${copied} list entr(ies) copied, ${rows.length - copied} already there`);
  if (kept.length > 0) say(`viewer: ${kept.join(', ')}: already on the same list in the shared database with another kind or expiry, kept as it is there`);
}

const auditKey = (r: Omit<Selectable<ViewerTables['audit']>, 'id'>) => JSON.stringify([r.at, r.actor, r.action, r.message_id, r.detail, r.client]);

/**
 * The audit log in chunks of about a thousand lines by time, each line matched against the shared
 * lines of the same span (counted, so two identical lines stay two). A chunk never splits one
 * millisecond's lines, or a line could be matched twice.
 */
async function copyAudit(local: ViewerDatabase, shared: ViewerDatabase, say: (line: string) => void): Promise<void> {
  const rows = await local.selectFrom('audit').selectAll().orderBy('at').orderBy('id').execute();
  let copied = 0;
  let shown = 0;
  for (let start = 0; start < rows.length;) {
    let end = Math.min(rows.length, start + AUDIT_CHUNK);
    while (end < rows.length && rows[end]!.at === rows[end - 1]!.at) end += 1;
    const chunk = rows.slice(start, end);
    const there = new Map<string, number>();
    const existing = await shared
      .selectFrom('audit')
      .select(['at', 'actor', 'action', 'message_id', 'detail', 'client'])
      .where('at', '>=', chunk[0]!.at)
      .where('at', '<=', chunk[chunk.length - 1]!.at)
      .execute();
    for (const r of existing) there.set(auditKey(r), (there.get(auditKey(r)) ?? 0) + 1);
    const missing = chunk.filter((r) => {
      const count = there.get(auditKey(r)) ?? 0;
      if (count > 0) there.set(auditKey(r), count - 1);
      return count === 0;
    });
    if (missing.length > 0) await shared.insertInto('audit').values(missing.map(withoutId)).execute();
    copied += missing.length;
    start = end;
    // A line every 5% (and the last), as the quarantine's copy says it.
    if (start === rows.length || start - shown >= Math.max(1, Math.ceil(rows.length / 20))) {
      shown = start;
      say(`audit: ${start} of ${rows.length} lines`);
    }
  }
  say(`viewer: ${copied} audit line(s) copied, ${rows.length - copied} already there`);
}

async function copyReleaseRequests(local: ViewerDatabase, shared: ViewerDatabase, ids: UserIds, say: (line: string) => void): Promise<void> {
  let copied = 0;
  const rows = await local.selectFrom('release_requests').selectAll().orderBy('id').execute();
  for (const row of rows) {
    const userId = ids.get(row.user_id)!;
    const there = await shared
      .selectFrom('release_requests')
      .select('id')
      .where('message_id', '=', row.message_id)
      .where('user_id', '=', userId)
      .where('requested_at', '=', row.requested_at)
      .executeTakeFirst();
    if (there) continue;
    await shared
      .insertInto('release_requests')
      .values({ ...withoutId(row), user_id: userId })
      .execute();
    copied += 1;
  }
  say(`viewer: ${copied} release request(s) copied, ${rows.length - copied} already there`);
}

/** Settings, digest state and used link nonces: by key, what the shared database has already is kept. */
async function copyKeyed(local: ViewerDatabase, shared: ViewerDatabase, ids: UserIds, say: (line: string) => void): Promise<void> {
  const inserted = (r: { numInsertedOrUpdatedRows?: bigint }) => Number(r.numInsertedOrUpdatedRows ?? 0);
  let settings = 0;
  const keptSettings: string[] = [];
  for (const row of await local.selectFrom('settings').selectAll().execute()) {
    const added = inserted(
      await shared
        .insertInto('settings')
        .values(row)
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst(),
    );
    settings += added;
    if (!added) {
      const there = await shared.selectFrom('settings').select('value').where('name', '=', row.name).executeTakeFirst();
      if (there?.value !== row.value) keptSettings.push(row.name);
    }
  }
  say(`viewer: ${settings} setting(s) copied${keptSettings.length ? `; ${keptSettings.join(', ')} kept as the shared database has it` : ''}`);
  let digest = 0;
  for (const row of await local.selectFrom('digest_state').selectAll().execute())
    digest += inserted(
      await shared
        .insertInto('digest_state')
        .values({ ...row, user_id: ids.get(row.user_id)! })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst(),
    );
  let nonces = 0;
  for (const row of await local.selectFrom('used_tokens').selectAll().execute())
    nonces += inserted(
      await shared
        .insertInto('used_tokens')
        .values(row)
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst(),
    );
  say(`viewer: digest state of ${digest} user(s) and ${nonces} used link nonce(s) copied`);
}
