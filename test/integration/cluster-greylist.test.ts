// Greylisting and the door's counts shared by two appliances through one PostgreSQL (Debian's 15
// on loopback, TLS): two real policy services (`mailfilter policy`, asked over TCP as Postfix asks
// them) and unbound for their SPF lookups. A triplet first seen by node A passes when its retry
// reaches node B; both nodes' counts add up in the door_daily the console reads; with the
// database gone, mail is let on ungreylisted (DUNNO) and the reason is logged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { parseConfig } from '../../runtime/config/load.js';
import type { AppConfig } from '../../runtime/config/schema.js';
import { collectAsConfigured } from '../../runtime/door-stats/collect.js';
import { startPolicy, type RunningPolicy } from '../../runtime/policy/daemon.js';
import { GreylistState } from '../../runtime/policy/greylist-state.js';
import { migrateToShared } from '../../runtime/storage/migrate-to-shared.js';
import { QuarantineStore } from '../../runtime/quarantine/store.js';
import { openPostgres } from '../../runtime/storage/postgres.js';
import { migrateShared, type SharedTables } from '../../runtime/storage/shared-schema.js';
import { utcDay } from '../../runtime/time/utc.js';
import { startDns, type DnsServer } from '../support/dns.js';
import { freePort } from '../support/net.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { makeTestCerts } from '../support/tls.js';

const DELAY_SECONDS = 2;
const root = mkdtempSync(join(tmpdir(), 'mailfilter-cluster-grey-'));
let server: TestPostgres | undefined;
let dns: DnsServer | undefined;
let db: Kysely<SharedTables>;
const running: RunningPolicy[] = [];

before(
  async () => {
    server = await startPostgres(makeTestCerts(join(root, 'certs')));
    dns = await startDns(join(root, 'dns'), []);
    db = openPostgres<SharedTables>({ url: server.url, caFile: server.caFile, applicationName: 'test', maxConnections: 2 });
    await migrateShared(db);
  },
  { timeout: 120_000 },
);

after(async () => {
  for (const policy of running) await policy.close().catch(() => undefined);
  await db?.destroy().catch(() => undefined);
  await dns?.stop();
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

function nodeConfig(name: string, port: number, url = server!.url): AppConfig {
  return parseConfig({
    storage: { backend: 'postgresql', url, caFile: server!.caFile },
    greylist: { enabled: true, listenPort: port, delaySeconds: DELAY_SECONDS, stateFile: join(root, name, 'greylist.sqlite') },
    quarantine: { dir: join(root, name, 'quarantine') },
    viewer: { dataDir: join(root, name, 'viewer') },
    auth: { dnsServer: dns!.address, dnsTimeoutSeconds: 2 },
  });
}

interface Node {
  config: AppConfig;
  policy: RunningPolicy;
}

async function startNode(name: string, url?: string): Promise<Node> {
  const config = nodeConfig(name, await freePort(), url);
  const policy = await startPolicy(config, { answerWithinMs: 3000, retryMs: 2000 });
  running.push(policy);
  return { config, policy };
}

async function stopNode(node: Node): Promise<void> {
  running.splice(running.indexOf(node.policy), 1);
  await node.policy.close();
}

/** Asks a node's policy service as Postfix's smtpd does at RCPT; the action it answers. */
function ask(node: Node, sender: string, recipient: string, clientAddress = '198.51.100.7'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(node.policy.port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(30_000, () => socket.destroy(new Error('no policy answer in 30 s')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (!answer.endsWith('\n\n')) return;
      socket.end();
      resolve(answer.replace(/^action=/, '').trim());
    });
    socket.write(
      `request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=${clientAddress}\nhelo_name=mx.sender.test\nsender=${sender}\nrecipient=${recipient}\n\n`,
    );
  });
}

/** What the console's chart shows for today: the door's counts in the shared database. */
async function doorToday(): Promise<Record<string, number>> {
  const store = QuarantineStore.shared(db, 100);
  const today = utcDay(Date.now());
  return Object.fromEntries((await store.dailyDoor(today)).filter((r) => r.day === today).map((r) => [r.kind, r.count]));
}

/** Lines the policy services log to stderr while `during` runs. */
async function stderrDuring(during: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return write(chunk, ...(rest as []));
  }) as typeof process.stderr.write;
  try {
    await during();
    await sleep(50);
  } finally {
    process.stderr.write = write;
  }
  return lines.join('');
}

test(
  'a triplet first seen via node A is let through when its retry after the delay reaches node B; both nodes’ counts add up',
  { timeout: 120_000 },
  async () => {
    await sql`TRUNCATE greylist_triplets, greylist_clients, door_daily`.execute(db);
    const [a, b] = [await startNode('node-a'), await startNode('node-b')];
    assert.match(await ask(a, 'someone@sender.test', 'bob@company.com'), /^450 4\.7\.1 Greylisted: first mail from 198\.51\.100\.0\/24 for <bob@company\.com>/);
    assert.match(await ask(b, 'someone@sender.test', 'bob@company.com', '198.51.100.8'), /^450 4\.7\.1 .*try again in [12] seconds/, 'B knows A’s triplet');
    await sleep((DELAY_SECONDS + 1) * 1000);
    assert.equal(await ask(b, 'someone@sender.test', 'bob@company.com'), 'DUNNO', 'the retry through B passes');
    assert.equal(await ask(a, 'someone@sender.test', 'bob@company.com'), 'DUNNO', 'and A knows it passed');
    assert.match(await ask(a, 'someone@sender.test', 'carol@company.com'), /^450 /, 'another recipient is another triplet');
    await Promise.all([stopNode(a), stopNode(b)]);
    assert.deepEqual(await doorToday(), { greylisted: 3, 'greylist-passed': 1 }, 'A’s two 450s, B’s one 450 and one pass');
  },
);

test('two nodes asked at once for the same retry count one pass between them', { timeout: 120_000 }, async () => {
  await sql`TRUNCATE greylist_triplets, greylist_clients, door_daily`.execute(db);
  const [a, b] = [await startNode('node-a'), await startNode('node-b')];
  const firsts = await Promise.all([ask(a, 'x@sender.test', 'dave@company.com'), ask(b, 'x@sender.test', 'dave@company.com')]);
  assert.ok(
    firsts.every((action) => action.startsWith('450 ')),
    firsts.join(' | '),
  );
  await sleep((DELAY_SECONDS + 1) * 1000);
  assert.deepEqual(await Promise.all([ask(a, 'x@sender.test', 'dave@company.com'), ask(b, 'x@sender.test', 'dave@company.com')]), ['DUNNO', 'DUNNO']);
  await Promise.all([stopNode(a), stopNode(b)]);
  const clients = await db.selectFrom('greylist_clients').select(['network', 'passes']).execute();
  assert.deepEqual(clients, [{ network: '198.51.100.0/24', passes: 1 }]);
  assert.deepEqual(await doorToday(), { greylisted: 2, 'greylist-passed': 1 });
});

test(
  'door-stats on each node counts its own mail log into the shared door_daily; each node’s place in its log stays its own',
  { timeout: 60_000 },
  async () => {
    await sql`TRUNCATE door_daily`.execute(db);
    const stamp = new Date().toISOString().replace(/\.\d+Z$/, '+00:00');
    const pregreet = (n: number) => `${stamp} mx postfix/postscreen[1]: PREGREET 24 after 0 from [192.0.2.${n}]:25: EHLO x\\r\\n\n`;
    const dnsbl = (n: number) => `${stamp} mx postfix/postscreen[1]: DNSBL rank 3 for [192.0.2.${n}]:25\n`;
    const [a, b] = [nodeConfig('door-a', 1), nodeConfig('door-b', 1)];
    const [logA, logB] = [join(root, 'mail-a.log'), join(root, 'mail-b.log')];
    writeFileSync(logA, pregreet(1) + dnsbl(2));
    writeFileSync(logB, dnsbl(3));
    assert.deepEqual(await collectAsConfigured(a, logA), { lines: 2, counted: 2 });
    assert.deepEqual(await collectAsConfigured(b, logB), { lines: 1, counted: 1 });
    assert.deepEqual(await doorToday(), { dnsbl: 2, pregreet: 1 });
    appendFileSync(logB, pregreet(4));
    assert.deepEqual(await collectAsConfigured(a, logA), { lines: 0, counted: 0 }, 'A read its log already');
    assert.deepEqual(await collectAsConfigured(b, logB), { lines: 1, counted: 1 });
    assert.deepEqual(await doorToday(), { dnsbl: 2, pregreet: 2 });
  },
);

test(
  '`storage migrate --to postgresql` brings an appliance’s greylisting along: its waiting sender passes via any node, its trusted network stays trusted',
  { timeout: 60_000 },
  async () => {
    await sql`TRUNCATE greylist_triplets, greylist_clients`.execute(db);
    const stateFile = join(root, 'single', 'greylist.sqlite');
    const single = GreylistState.open(stateFile);
    const firstSeen = Date.now() - (DELAY_SECONDS + 1) * 1000;
    await single.attempt({ network: '198.51.100.0/24', sender: 'w@sender.test', recipient: 'henry@company.com' }, DELAY_SECONDS, firstSeen);
    for (const recipient of ['r1@company.com', 'r2@company.com', 'r3@company.com', 'r4@company.com', 'r5@company.com']) {
      const triplet = { network: '203.0.113.0/24', sender: 'list@big.test', recipient };
      await single.attempt(triplet, DELAY_SECONDS, firstSeen);
      await single.attempt(triplet, DELAY_SECONDS, Date.now());
    }
    await single.close();
    const lines: string[] = [];
    const config = parseConfig({
      quarantine: { dir: join(root, 'single', 'quarantine') },
      storage: { url: server!.url, caFile: server!.caFile },
      greylist: { stateFile },
    });
    await migrateToShared(config, (line) => lines.push(line));
    assert.ok(lines.includes('greylisting: 6 triplet(s) and 1 client network(s) copied (what the shared database knew already kept)'), lines.join('\n'));
    const secondRun: string[] = [];
    await migrateToShared(config, (line) => secondRun.push(line));
    const greylistLine = secondRun.find((line) => line.startsWith('greylisting:'));
    assert.match(greylistLine ?? secondRun.join('\n'), /^greylisting: 0 triplet\(s\) and 0 client network\(s\) copied/, 'run again, nothing twice');
    const node = await startNode('node-c');
    assert.equal(await ask(node, 'w@sender.test', 'henry@company.com'), 'DUNNO', 'the sender that waited on the single appliance');
    assert.equal(await ask(node, 'new@big.test', 'ivy@company.com', '203.0.113.9'), 'DUNNO', 'the network that earned auto-allow there');
    await stopNode(node);
  },
);

test('a node whose shared database is down at start answers DUNNO (greylisting skipped), and says why in its log', { timeout: 60_000 }, async () => {
  let node: Node | undefined;
  const log = await stderrDuring(async () => {
    node = await startNode('node-down-at-start', 'postgresql://mf:pw@127.0.0.1:9/none');
    assert.equal(await ask(node, 'y@sender.test', 'erin@company.com'), 'DUNNO');
    assert.equal(await ask(node, 'y@sender.test', 'erin@company.com'), 'DUNNO');
  });
  await stopNode(node!);
  assert.equal(log.match(/greylisting database not answering/g)?.length, 1, log);
  assert.match(log, /error policy: greylisting database not answering: mail is let on without greylisting \(DUNNO\) until it answers error=.*ECONNREFUSED/);
});

test(
  'with the shared database stopped mid-run, both nodes let mail on (DUNNO) at once instead of deferring it, and log why',
  { timeout: 120_000 },
  async () => {
    await sql`TRUNCATE greylist_triplets, greylist_clients, door_daily`.execute(db);
    const [a, b] = [await startNode('node-a'), await startNode('node-b')];
    assert.match(await ask(a, 'z@sender.test', 'frank@company.com'), /^450 /);
    await db.destroy();
    await server!.stop();
    server = undefined;
    const log = await stderrDuring(async () => {
      const started = Date.now();
      assert.deepEqual(await Promise.all([ask(a, 'z@sender.test', 'frank@company.com'), ask(b, 'z@sender.test', 'grace@company.com')]), ['DUNNO', 'DUNNO']);
      assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
      await Promise.all([stopNode(a), stopNode(b)]);
    });
    assert.equal(log.match(/error policy: greylisting database not answering/g)?.length, 2, log);
  },
);
