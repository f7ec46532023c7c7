// What the shared PostgreSQL (issue 18) costs the filter, and what a second node adds. In one run:
//  - the filter with `storage.backend: postgresql` against `sqlite`, on the same Postfix, for 2 KB
//    passthrough mail (checks off: what remains is the per-message work around the checks, the
//    sender-list lookup among it) and for held mail (a banned attachment, quarantined with
//    D_DISCARD: the index row and the message's bytes written per message; no clamd or spamd, so
//    the database's share is not hidden behind a scanner);
//  - two nodes (two Postfix instances, each with its own filter, as two appliances behind equal MX
//    records) on one PostgreSQL against one node taking the same offered load alone.
// PostgreSQL is Debian's 15 on loopback with TLS and SCRAM (test/support/postgres.ts), as a site's
// would be reached over TLS. Rows alternate within each round (the machine is shared: only ratios
// of neighbouring runs mean something) and each round gives a ratio; the report gives their true
// median. CPU is read from /proc: the filter process's, and PostgreSQL's (its backends, the
// ones that ended included), per message.
//   `node --import tsx bench/cluster.ts`   (BENCH_ROUNDS=6, BENCH_SESSIONS=10, BENCH_MESSAGES=300)
//   BENCH_CLUSTER_REPORT=1 writes the page again from bench/results/cluster.json, measuring nothing.
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { parseConfig } from '../runtime/config/load.js';
import type { AppConfig } from '../runtime/config/schema.js';
import { spawnServer, type ChildServer } from '../runtime/local/servers.js';
import { openSharedDatabase } from '../runtime/storage/shared-schema.js';
import { openViewerDb } from '../runtime/storage/open-viewer.js';
import { openSharedHandle } from '../runtime/storage/shared-handle.js';
import type { ViewerDatabase } from '../runtime/storage/viewer-db.js';
import { startPostfix, type Postfix } from '../test/support/postfix.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import { makeTestCerts } from '../test/support/tls.js';
import { buildMessage, FAKE_EXE } from '../test/support/messages.js';
import { freePort, listening, waitFor } from '../test/support/net.js';
import { LOAD_LIMITS, relayingTo } from './relay-settings.js';
import { replaceDocsSection } from './docs-section.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SIZE = 2048;
const SENDER = 'bench@example.net';
const RECIPIENT = 'bob@company.com';
const TICK = 100; // clock ticks per second in /proc/<pid>/stat (getconf CLK_TCK on Linux)

type Backend = 'sqlite' | 'postgresql';
type Mix = 'passthrough' | 'held';
const BACKENDS: Backend[] = ['sqlite', 'postgresql'];
const MIXES: Mix[] = ['passthrough', 'held'];

/** A 2 KB message: plain text, or text with a banned attachment (invoice.exe, an MZ/PE header). */
function messageOf(mix: Mix): string {
  const spec = { from: `Bench <${SENDER}>`, to: RECIPIENT, subject: `cluster bench (${mix})` };
  const withBody = (body: string) =>
    buildMessage(mix === 'held' ? { ...spec, body, attachments: [{ filename: 'invoice.exe', content: FAKE_EXE }] } : { ...spec, body });
  const line = `${'x'.repeat(62)}\r\n`;
  const bare = withBody('').length;
  // smtp-source adds CR to each line it sends: the file holds LF, the size counts the CRLF.
  return withBody(line.repeat(Math.max(0, Math.floor((SIZE - bare) / line.length)))).replace(/\r\n/g, '\n');
}

/** The lines appended to a growing log since the last call (a Postfix log is read once, not per poll). */
function logTail(path: string): () => string[] {
  let offset = 0;
  let rest = '';
  return () => {
    if (!existsSync(path)) return [];
    const size = statSync(path).size;
    if (size <= offset) return [];
    const buffer = Buffer.alloc(size - offset);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, offset);
    } finally {
      closeSync(fd);
    }
    offset = size;
    const lines = (rest + buffer.toString('utf8')).split('\n');
    rest = lines.pop()!;
    return lines;
  };
}

interface Counts {
  /** At the final server (the sink), through the filter. */
  delivered: number;
  /** Answered by the filter as quarantined. */
  held: number;
  /** Deferred at the filter hop (a 4xx from the filter, or no connection). */
  deferred: number;
  /** The filter hop's transmission times (Postfix's delays=…/…/…/d), ms. */
  filterMs: number[];
}

interface Node {
  name: 'A' | 'B';
  dir: string;
  postfix: Postfix;
  smtpPort: number;
  filterPort: number;
  counts: Counts;
  /** Reads the new lines of the node's Postfix log into `counts`. */
  poll(): void;
  configFor(backend: Backend, mix: Mix): AppConfig;
}

const dir = mkdtempSync(join(tmpdir(), 'mailfilter-bench-cluster-'));
chmodSync(dir, 0o755);

async function startNode(name: Node['name'], sinkPort: number, pg: TestPostgres): Promise<Node> {
  const home = join(dir, `node-${name}`);
  const [smtpPort, reinjectPort, filterPort] = [await freePort(), await freePort(), await freePort()];
  const configFor = (backend: Backend, mix: Mix) =>
    parseConfig(
      {
        ...relayingTo(sinkPort),
        postfix: { configDir: join(home, 'postfix', 'conf'), smtpPort, reinjectPort },
        filter: { listenPort: filterPort, maxConnections: 50, spoolDir: join(home, 'spool'), checks: mix === 'held' ? ['banned'] : [] },
        // Held, not bounced: a notice to the sender would go out to example.net.
        policy: { bannedDestiny: 'D_DISCARD' },
        quarantine: { dir: join(home, `quarantine-${backend}`) },
        // In SQLite mode the lists are read from here; in PostgreSQL mode from the shared database.
        viewer: { dataDir: join(home, 'viewer') },
        ...(backend === 'postgresql' ? { storage: { backend, url: pg.url, caFile: pg.caFile } } : {}),
      },
      `bench node ${name}`,
    );
  const postfix = await startPostfix(join(home, 'postfix'), configFor('sqlite', 'passthrough'));
  execFileSync('postconf', ['-c', postfix.confDir, '-e', ...LOAD_LIMITS]);
  execFileSync('postfix', ['-c', postfix.confDir, 'reload']);
  const counts: Counts = { delivered: 0, held: 0, deferred: 0, filterMs: [] };
  const read = logTail(join(home, 'postfix', 'maillog'));
  const toSink = `relay=127.0.0.1[127.0.0.1]:${sinkPort},`;
  const toFilter = `relay=127.0.0.1[127.0.0.1]:${filterPort},`;
  return {
    name,
    dir: home,
    postfix,
    smtpPort,
    filterPort,
    counts,
    configFor,
    poll() {
      for (const line of read()) {
        if (line.includes(toSink) && line.includes('status=sent')) counts.delivered += 1;
        if (!line.includes(toFilter)) continue;
        if (line.includes('status=deferred')) counts.deferred += 1;
        if (!line.includes('status=sent')) continue;
        if (line.includes('quarantined (BANNED)')) counts.held += 1;
        const delay = /delays=[\d.]+\/[\d.]+\/[\d.]+\/([\d.]+)/.exec(line)?.[1];
        if (delay) counts.filterMs.push(Number(delay) * 1000);
      }
    },
  };
}

/**
 * The same lists in each node's viewer.sqlite and in the shared database: a user with bob's
 * address and entries on his list and the global one, none for the bench's sender, so every
 * message is looked up in full and its verdict stands.
 */
async function seedLists(db: ViewerDatabase): Promise<void> {
  const now = Date.now();
  const { id } = await db.insertInto('users').values({ username: 'bob', password_hash: null, source: 'local' }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('addresses').values({ address: RECIPIENT, user_id: id }).execute();
  const entries = Array.from({ length: 40 }, (_, i) => ({
    owner_id: i % 2 === 0 ? null : id,
    kind: i % 3 === 0 ? ('block' as const) : ('allow' as const),
    pattern: i % 4 === 0 ? `*@sender${i}.example` : `someone${i}@sender${i}.example`,
    expires_at: null,
    created_by: 'bench',
    created_at: now,
  }));
  await db.insertInto('sender_lists').values(entries).execute();
}

/** utime + stime (and, with `children`, that of its ended children) of a process, in seconds; 0 when gone. */
function cpuSeconds(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(stat[11]) + Number(stat[12]) + (children ? Number(stat[13]) + Number(stat[14]) : 0)) / TICK;
  } catch {
    return 0;
  }
}

/** PostgreSQL's CPU so far: the postmaster with the backends that ended, and those running now. */
function postgresCpuSeconds(postmaster: number): number {
  let total = cpuSeconds(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) total += cpuSeconds(Number(entry));
    } catch {
      // ended meanwhile: its CPU is in the postmaster's children's now
    }
  }
  return total;
}

/** The 1-minute load average: how busy the shared machine was. */
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

function smtpSource(port: number, file: string, sessions: number, messages: number): Promise<void> {
  return new Promise((done, fail) => {
    const source = spawn('smtp-source', ['-s', String(sessions), '-m', String(messages), '-F', file, '-f', SENDER, '-t', RECIPIENT, `127.0.0.1:${port}`], {
      stdio: 'ignore',
      timeout: 10 * 60_000,
    });
    source.on('error', fail);
    source.on('exit', (code) => (code === 0 ? done() : fail(new Error(`smtp-source exited with ${code}`))));
  });
}

/** A row of the report: which filter setup, fed how. */
interface Setup {
  backend: Backend;
  mix: Mix;
  nodes: 1 | 2;
  /** Sessions and messages sent to each node. */
  sessions: number;
  messages: number;
}

interface Run extends Setup {
  round: number;
  messagesPerSecond: number;
  /** Our filter process(es), per message. */
  filterCpuMs: number;
  /** PostgreSQL's processes, per message (0 in SQLite mode). */
  postgresCpuMs: number;
  filterP50Ms: number;
  load: number;
}

const label = (s: Setup) => `${s.mix} ${s.backend} ${s.nodes} node${s.nodes > 1 ? 's' : ''}`;

async function measure(setup: Setup, round: number, nodes: Node[], postmaster: number): Promise<Run> {
  const active = nodes.slice(0, setup.nodes);
  const file = join(dir, `${setup.mix}.eml`);
  const filters: ChildServer[] = [];
  try {
    for (const node of active) {
      const configPath = join(dir, `node-${node.name}-${setup.backend}-${setup.mix}.json`);
      writeFileSync(configPath, JSON.stringify(node.configFor(setup.backend, setup.mix)));
      const filter = spawnServer(
        `our filter (node ${node.name}, ${setup.backend})`,
        process.execPath,
        ['--import', 'tsx', resolve('runtime/cli.ts'), 'filter', '--config', configPath],
        {
          logFile: join(dir, `filter-${node.name}.log`),
        },
      );
      filters.push(filter);
    }
    await Promise.all(filters.map((filter, i) => filter.ready('our filter to listen', () => listening(active[i]!.filterPort), 90_000)));
    for (const node of active) node.poll();
    const before = active.map((node) => ({ ...node.counts, filterMs: node.counts.filterMs.length }));
    const cpuBefore = filters.reduce((sum, f) => sum + cpuSeconds(f.child.pid!), 0);
    const pgBefore = postgresCpuSeconds(postmaster);
    const started = performance.now();
    await Promise.all(active.map((node) => smtpSource(node.smtpPort, file, setup.sessions, setup.messages)));
    const done = () =>
      active.every((node, i) => {
        node.poll();
        const c = node.counts;
        return setup.mix === 'held' ? c.held >= before[i]!.held + setup.messages : c.delivered >= before[i]!.delivered + setup.messages;
      });
    await waitFor(`${setup.messages} messages through each node (${label(setup)})`, async () => done(), 10 * 60_000, 100);
    const seconds = (performance.now() - started) / 1000;
    const total = setup.messages * active.length;
    const filterCpu = filters.reduce((sum, f) => sum + cpuSeconds(f.child.pid!), 0) - cpuBefore;
    const pgCpu = setup.backend === 'postgresql' ? postgresCpuSeconds(postmaster) - pgBefore : 0;
    // A held message must not also be delivered, a passed one not held; a 4xx would be retried and counted late.
    active.forEach((node, i) => {
      const c = node.counts;
      const wrong = setup.mix === 'held' ? c.delivered - before[i]!.delivered : c.held - before[i]!.held;
      if (wrong !== 0) throw new Error(`node ${node.name}, ${label(setup)}: ${wrong} message(s) took the other way`);
      if (c.deferred !== before[i]!.deferred) throw new Error(`node ${node.name}, ${label(setup)}: ${c.deferred - before[i]!.deferred} deferred at the filter`);
    });
    const delays = active.flatMap((node, i) => node.counts.filterMs.slice(before[i]!.filterMs));
    const run: Run = {
      ...setup,
      round,
      messagesPerSecond: total / seconds,
      filterCpuMs: (filterCpu * 1000) / total,
      postgresCpuMs: (pgCpu * 1000) / total,
      filterP50Ms: median(delays),
      load: loadAverage(),
    };
    console.log(
      `round ${round}  ${label(setup).padEnd(28)} ${run.messagesPerSecond.toFixed(1).padStart(6)} msg/s  filter ${run.filterCpuMs.toFixed(2)} ms/msg  PostgreSQL ${run.postgresCpuMs.toFixed(2)} ms/msg  hop p50 ${run.filterP50Ms.toFixed(0)} ms  load ${run.load}`,
    );
    return run;
  } finally {
    for (const filter of filters) await filter.stop();
    await sleep(300);
  }
}

/** The middle value; for an even count the mean of the two middle ones. */
function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const started = new Date();
  const loads = [loadAverage()];
  const sampler = setInterval(() => loads.push(loadAverage()), 5000);
  const stops: Array<() => Promise<void>> = [];
  try {
    const pg = await startPostgres(makeTestCerts(join(dir, 'certs')));
    stops.push(() => pg.stop());
    const sinkPort = await freePort();
    const sink = spawnServer('smtp-sink', 'smtp-sink', ['-u', 'postfix', `127.0.0.1:${sinkPort}`, '1024']);
    stops.push(() => sink.stop());
    await sink.ready('smtp-sink to listen', () => listening(sinkPort), 15_000);
    const nodes: Node[] = [];
    for (const name of ['A', 'B'] as const) {
      const node = await startNode(name, sinkPort, pg);
      nodes.push(node);
      stops.push(() => node.postfix.stop());
    }
    for (const mix of MIXES) writeFileSync(join(dir, `${mix}.eml`), messageOf(mix));

    // The shared schema, and the lists in the shared database and in node A's viewer.sqlite.
    const handle = openSharedHandle(nodes[0]!.configFor('postgresql', 'passthrough'), { name: 'bench', maxConnections: 2 });
    const shared = await openViewerDb(nodes[0]!.configFor('postgresql', 'passthrough'), handle);
    await seedLists(shared.db);
    await handle?.close();
    const local = await openViewerDb(nodes[0]!.configFor('sqlite', 'passthrough'), null);
    await seedLists(local.db);
    await local.close();
    const probe = openSharedDatabase(nodes[0]!.configFor('postgresql', 'passthrough').storage, 'bench');
    const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(probe);
    const stat = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8');
    const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const sslInUse = (await sql<{ ssl: boolean }>`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`.execute(probe)).rows[0]?.ssl;
    if (!sslInUse) throw new Error('the connection to PostgreSQL is not TLS');

    // Whether the filter looks its lists up in the shared database (the viewer's tables moved there) or in viewer.sqlite.
    const listScans = async () =>
      (await sql<{ n: number }>`SELECT (seq_scan + coalesce(idx_scan, 0))::int AS n FROM pg_stat_user_tables WHERE relname = 'sender_lists'`.execute(probe))
        .rows[0]!.n;
    await sleep(1500);
    const listReadsBefore = await listScans();
    process.env.MAILFILTER_LOG_LEVEL = 'info';
    const single: Setup[] = MIXES.flatMap((mix) => BACKENDS.map((backend) => ({ backend, mix, nodes: 1 as const, sessions: SESSIONS, messages: MESSAGES })));
    // The same offered load either way: all of it to one node, or half to each of two.
    const pair: Setup[] = MIXES.flatMap((mix) => [
      { backend: 'postgresql' as const, mix, nodes: 1 as const, sessions: 2 * SESSIONS, messages: 2 * MESSAGES },
      { backend: 'postgresql' as const, mix, nodes: 2 as const, sessions: SESSIONS, messages: MESSAGES },
    ]);
    const runs: Run[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternating which goes first, so a drift of the shared machine falls on all alike.
      const order = [...single, ...pair];
      for (const setup of round % 2 === 1 ? order : order.reverse()) runs.push(await measure(setup, round, nodes, postmaster));
    }
    const held = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages`.execute(probe)).rows[0]!.n;
    const chunks = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM message_chunks`.execute(probe)).rows[0]!.n;
    await sleep(1500); // PostgreSQL flushes its table statistics within a second
    const listReads = (await listScans()) - listReadsBefore;
    await probe.destroy();
    const expected = runs.filter((r) => r.backend === 'postgresql' && r.mix === 'held').reduce((sum, r) => sum + r.messages * r.nodes, 0);
    if (held !== expected) throw new Error(`the shared quarantine holds ${held} messages, ${expected} were held in PostgreSQL mode`);
    clearInterval(sampler);
    loads.push(loadAverage());
    writeReport({ started: started.toISOString(), commit: gitCommit(), loads, heldInPostgres: held, chunks, listReads, runs });
  } finally {
    clearInterval(sampler);
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  }
}

/** The commit measured, with a mark when the work tree differs from it. */
function gitCommit(): string {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'runtime'], { encoding: 'utf8' }).trim();
  return changed ? `${commit} (with changes to runtime/)` : commit;
}

interface Report {
  started: string;
  commit: string;
  /** The 1-minute load average, every 5 s through the run. */
  loads: number[];
  heldInPostgres: number;
  chunks: number;
  /** Scans of sender_lists in PostgreSQL over the run: 0 when the filter read its lists from viewer.sqlite. */
  listReads?: number;
  runs: Run[];
}

const SECTION_START = '<!-- bench/cluster.ts -->';
const SECTION_END = '<!-- /bench/cluster.ts -->';

function writeReport(r: Report, machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? '', node: process.version }): void {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(resolve('bench/results/cluster.json'), JSON.stringify({ machine, ...r }, null, 2) + '\n');
  const rounds = Math.max(...r.runs.map((run) => run.round));
  // Each node's share: the single-node rows are sent this, the one node of the pair rows twice this.
  const sessions = Math.min(...r.runs.map((run) => run.sessions));
  const messages = Math.min(...r.runs.map((run) => run.messages));
  const of = (backend: Backend, mix: Mix, nodes: 1 | 2, sessions?: number) =>
    r.runs
      .filter((run) => run.backend === backend && run.mix === mix && run.nodes === nodes && (sessions === undefined || run.sessions === sessions))
      .sort((a, b) => a.round - b.round);
  /** A round's ratio of two rows, for each round; their median and range. */
  const ratio = (top: Run[], bottom: Run[], value: (run: Run) => number) => {
    const each = top.map((run, i) => value(run) / value(bottom[i]!));
    return { median: median(each), min: Math.min(...each), max: Math.max(...each) };
  };
  const x = (n: number) => `${n.toFixed(2)}x`;
  const range = (q: { min: number; max: number }) => `${q.min.toFixed(2)}–${q.max.toFixed(2)}`;
  const ms = (n: number) => n.toFixed(2);
  const total = (run: Run) => run.filterCpuMs + run.postgresCpuMs;
  const row = (name: string, runs: Run[]) =>
    `| ${name} | ${median(runs.map((run) => run.messagesPerSecond)).toFixed(1)} | ${ms(median(runs.map((run) => run.filterCpuMs)))} | ${runs[0]!.backend === 'postgresql' ? ms(median(runs.map((run) => run.postgresCpuMs))) : '-'} | ${ms(median(runs.map(total)))} | ${median(runs.map((run) => run.filterP50Ms)).toFixed(0)} | ${runs.map((run) => run.messagesPerSecond.toFixed(1)).join(', ')} |`;
  const backendLines = MIXES.flatMap((mix) => {
    const [lite, pg] = [of('sqlite', mix, 1, sessions), of('postgresql', mix, 1, sessions)];
    return [row(`${mix}, SQLite`, lite), row(`${mix}, PostgreSQL`, pg)];
  });
  const backendRatios = MIXES.map((mix) => {
    const [lite, pg] = [of('sqlite', mix, 1, sessions), of('postgresql', mix, 1, sessions)];
    const rate = ratio(pg, lite, (run) => run.messagesPerSecond);
    const filter = ratio(pg, lite, (run) => run.filterCpuMs);
    const cpu = ratio(pg, lite, total);
    return `**${mix === 'held' ? 'Held (banned attachment, quarantined)' : '2 KB passthrough'}: PostgreSQL / SQLite ${x(rate.median)} the messages per second** (median of the rounds' ratios, range ${range(rate)}); CPU per message, filter and PostgreSQL together, ${x(cpu.median)} the filter's on SQLite (range ${range(cpu)}); the filter process alone ${x(filter.median)} (range ${range(filter)}).`;
  });
  const pairLines = MIXES.flatMap((mix) => [
    row(`${mix}, one node`, of('postgresql', mix, 1, 2 * sessions)),
    row(`${mix}, two nodes`, of('postgresql', mix, 2)),
  ]);
  const pairRatios = MIXES.map((mix) => {
    const [one, two] = [of('postgresql', mix, 1, 2 * sessions), of('postgresql', mix, 2)];
    const rate = ratio(two, one, (run) => run.messagesPerSecond);
    const cpu = ratio(two, one, total);
    return `**${mix === 'held' ? 'Held' : '2 KB passthrough'}: two nodes / one ${x(rate.median)} the messages per second** (range ${range(rate)}); CPU per message (both filters and PostgreSQL) ${x(cpu.median)} (range ${range(cpu)}).`;
  });
  const loads = r.loads;
  const pgMessages = r.runs.filter((run) => run.backend === 'postgresql').reduce((sum, run) => sum + run.messages * run.nodes, 0);
  const listsFrom = r.listReads
    ? `from the shared database: sender_lists was read ${r.listReads} times for the ${pgMessages} messages`
    : "still from the node's own viewer.sqlite: at this commit the filter does not read them from the shared database";
  const section = [
    SECTION_START,
    '## Several appliances, one PostgreSQL (bench/cluster.ts)',
    '',
    `Run on ${r.started.slice(0, 10)} at commit ${r.commit}: ${machine.cpus} cores (${machine.cpu}), Node ${machine.node}; load average ${loads[0]!.toFixed(2)} at the start, ${median(loads).toFixed(2)} median and ${Math.max(...loads).toFixed(2)} at most during the run, ${loads.at(-1)!.toFixed(2)} at the end (the machine is shared with other work: only the ratios of one round compare). Debian's PostgreSQL 15 on loopback, reached over TLS with SCRAM as a site's would be (test/support/postgres.ts: fsync and synchronous commit on, 32 MB shared buffers). smtp-source (${sessions} sessions, ${messages} messages a run, from 127.0.0.1) -> Postfix -> our filter -> Postfix -> smtp-sink, 2 KB messages. Passthrough: checks off, so what is left is the work around the checks, the sender-list lookup of each message among it (40 entries, none for the sender; in PostgreSQL mode ${listsFrom}). Held: a banned attachment (invoice.exe), checks: [banned] and bannedDestiny D_DISCARD, so every message is quarantined: on SQLite a file fsync'd beside an index row, on PostgreSQL the index row and the message's bytes in one transaction (no clamd or spamd, which would hide the database's share). ${rounds} rounds, the eight runs of a round in alternating order, a fresh filter for each run. CPU per message from /proc: the filter process, and PostgreSQL's processes (the backends serving the filter, the ones that ended too, and the server's own) in PostgreSQL mode; on SQLite the database work is inside the filter process.`,
    '',
    '| mix, storage | msg/s (median of runs) | filter CPU ms per message | PostgreSQL CPU ms per message | together | filter hop p50 ms | runs msg/s |',
    '|---|---|---|---|---|---|---|',
    ...backendLines,
    '',
    ...backendRatios.flatMap((line) => [line, '']),
    `Two nodes: two Postfix instances, each with its own filter, as two appliances behind equal MX records, on the one PostgreSQL; against one node taking the same offered load alone (${2 * sessions} sessions, ${2 * messages} messages, against ${sessions} and ${messages} to each of the two). All ${r.heldInPostgres} messages held in PostgreSQL mode were in the shared quarantine afterwards (${r.chunks} chunk rows).`,
    '',
    '| mix, PostgreSQL | msg/s (median of runs) | filter CPU ms per message | PostgreSQL CPU ms per message | together | filter hop p50 ms | runs msg/s |',
    '|---|---|---|---|---|---|---|',
    ...pairLines,
    '',
    ...pairRatios.flatMap((line) => [line, '']),
    `On one ${machine.cpus}-core machine the two-node figure is bounded by the cores: both nodes' Postfix and filters, PostgreSQL and the senders share the same ${machine.cpus} cores (already busy with one node), so a second node cannot add capacity here; it shows what sharing the database costs (contention, CPU per message), not how a second appliance on its own hardware scales. On separate machines each node brings its own cores, and the shared database's work per message (the PostgreSQL column) is what the database server must carry for all of them.`,
    SECTION_END,
  ].join('\n');
  replaceDocsSection(SECTION_START, SECTION_END, section);
  console.log(section);
  console.log('\nwritten: bench/results/cluster.json, docs/benchmarks.md');
}

function rewriteReport(): void {
  const { machine, ...report } = JSON.parse(readFileSync(resolve('bench/results/cluster.json'), 'utf8')) as Report & {
    machine: { cpus: number; cpu: string; node: string };
  };
  writeReport(report, machine);
}

if (process.env.BENCH_CLUSTER_REPORT) {
  rmSync(dir, { recursive: true, force: true }); // nothing is measured: the run's folder is not needed
  rewriteReport();
} else
  main().catch((err: Error) => {
    console.error(`cluster bench failed: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  });
