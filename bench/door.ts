// What the front door costs senders that are on no list: Postfix + our filter (passthrough, as in
// bench.ts's passthrough row) with postscreen off, beside the same with postscreen on and a DNS list
// served by a real DNS server (unbound on loopback, test/support/dns.ts) that lists none of them.
// The senders speak from loopback addresses outside mynetworks (127.0.1.x; mynetworks is
// 127.0.0.1/32), through bench/smtp-client.ts, in both rows alike; smtp-source cannot bind one.
// Each new client meets postscreen's pregreet wait once (postscreen_greet_wait, 6 s), then is
// remembered for a day: that first connection is reported apart, the rows measure known clients.
// Rows alternate in one run (off then on, then on then off, …) and each round gives a ratio: the
// machine is shared, so only ratios of neighbouring rows mean something.
// Short batches, many rounds: the load of other work changes within seconds.
//   `node --import tsx bench/door.ts`   (BENCH_ROUNDS=12, BENCH_SESSIONS=10)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../runtime/config/load.js';
import type { AppConfig } from '../runtime/config/schema.js';
import { startPostfix, type Postfix } from '../test/support/postfix.js';
import { startDns, type DnsServer } from '../test/support/dns.js';
import { freePort, listening, waitFor } from '../test/support/net.js';
import { stopChild } from '../test/support/process.js';
import { buildMessage } from '../test/support/messages.js';
import { sendSession } from './smtp-client.js';
import { relayingTo } from './relay-settings.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10);
const MESSAGES_PER_SESSION = 10;
const ONE_PER_CONNECTION = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const SIZE = 2048;
const clients = Array.from({ length: SESSIONS }, (_, i) => `127.0.1.${i + 1}`);
const dir = mkdtempSync(join(tmpdir(), 'mailfilter-bench-door-'));
chmodSync(dir, 0o755);
const children: ChildProcess[] = [];

interface Door {
  name: 'postscreen off' | 'postscreen on';
  postfix: Postfix;
  config: AppConfig;
  /** The instance's folder (its queue holds master.pid). */
  dir: string;
  filter: ChildProcess;
}

/** utime + stime of a process in seconds, 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(stat[11]) + Number(stat[12])) / 100;
  } catch {
    return 0;
  }
}

/** The pids of a Postfix instance's daemons of these names (children of its master). */
function daemons(door: Door, names: string[]): number[] {
  const master = Number(readFileSync(join(door.dir, 'queue', 'pid', 'master.pid'), 'utf8').trim());
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === master && names.includes(name);
      } catch {
        return false;
      }
    });
}

interface Row {
  door: Door['name'];
  mode: 'connection reused' | 'one message per connection';
  round: number;
  messages: number;
  /** Until the last message was accepted (250 after DATA) by the door. */
  acceptedPerSecond: number;
  /** Until the last message reached the final server through the filter. */
  deliveredPerSecond: number;
}

const message = (() => {
  const raw = buildMessage({
    from: 'Bench <bench@example.net>',
    to: 'bob@company.com',
    subject: 'door bench',
    body: `${'x'.repeat(62)}\r\n`.repeat(SIZE / 64),
  }).replace(/\r?\n/g, '\r\n');
  return (raw.endsWith('\r\n') ? raw : `${raw}\r\n`).replace(/^\./gm, '..');
})();

function delivered(postfix: Postfix, sinkPort: number): number {
  return postfix.log().split(`relay=127.0.0.1[127.0.0.1]:${sinkPort},`).length - 1;
}

async function startDoor(name: Door['name'], dns: DnsServer, sinkPort: number): Promise<Door> {
  const sub = name.replace(' ', '-');
  const [smtpPort, reinjectPort, filterPort] = [await freePort(), await freePort(), await freePort()];
  const config = parseConfig(
    {
      ...relayingTo(sinkPort),
      postfix: { configDir: join(dir, sub, 'conf'), smtpPort, reinjectPort },
      filter: { listenPort: filterPort, maxConnections: 50, checks: [], spoolDir: join(dir, sub, 'spool') },
      quarantine: { dir: join(dir, sub, 'quarantine') },
      viewer: { dataDir: join(dir, sub, 'viewer') },
      // Both rows: the door's checks as shipped, but limits no benchmark client should meet.
      door: {
        postscreen: name === 'postscreen on',
        dnsblSites: ['bl.test*3', 'wl.test*-2'],
        connectionsPerClient: 10000,
        connectionRatePerClient: 100000,
        messageRatePerClient: 100000,
        recipientRatePerClient: 1000000,
      },
    },
    `bench ${name}`,
  );
  const postfix = await startPostfix(join(dir, sub), config, { resolvConf: dns.resolvConf });
  execFileSync('postconf', ['-c', postfix.confDir, '-e', 'default_process_limit=200']);
  execFileSync('postfix', ['-c', postfix.confDir, 'reload']);
  const configPath = join(dir, `${sub}.json`);
  writeFileSync(configPath, JSON.stringify(config));
  const filter = spawn(process.execPath, ['--import', 'tsx', 'runtime/cli.ts', 'filter', '--config', configPath], {
    stdio: 'ignore',
    env: { ...process.env, MAILFILTER_LOG_LEVEL: 'warn' },
  });
  children.push(filter);
  await waitFor(`the filter (${name}) to listen`, () => listening(filterPort), 60_000);
  return { name, postfix, config, dir: join(dir, sub), filter };
}

const send = (door: Door, localAddress: string, count: number) =>
  sendSession(
    {
      host: '127.0.0.1',
      port: door.config.postfix.smtpPort,
      localAddress,
      helo: 'sender.example.net',
      from: 'bench@example.net',
      to: 'bob@company.com',
      message,
    },
    count,
  );

async function measure(door: Door, mode: Row['mode'], round: number, sinkPort: number): Promise<Row> {
  const before = delivered(door.postfix, sinkPort);
  const started = process.hrtime.bigint();
  if (mode === 'connection reused') await Promise.all(clients.map((client) => send(door, client, MESSAGES_PER_SESSION)));
  else
    await Promise.all(
      clients.map(async (client) => {
        for (let i = 0; i < ONE_PER_CONNECTION; i++) await send(door, client, 1);
      }),
    );
  const accepted = Number(process.hrtime.bigint() - started) / 1e9;
  const messages = clients.length * (mode === 'connection reused' ? MESSAGES_PER_SESSION : ONE_PER_CONNECTION);
  await waitFor(`${messages} messages at the sink (${door.name})`, () => delivered(door.postfix, sinkPort) >= before + messages, 10 * 60_000, 50);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const row: Row = { door: door.name, mode, round, messages, acceptedPerSecond: messages / accepted, deliveredPerSecond: messages / seconds };
  console.log(
    `${door.name.padEnd(15)} ${mode.padEnd(27)} round ${round}  ${row.acceptedPerSecond.toFixed(1)} accepted/s  ${row.deliveredPerSecond.toFixed(1)} delivered/s`,
  );
  return row;
}

async function main(): Promise<void> {
  const dns = await startDns(join(dir, 'dns'), [
    { name: 'example.net', type: 'A', data: '192.0.2.1' },
    { name: 'company.com', type: 'A', data: '192.0.2.2' },
  ]);
  const sinkPort = await freePort();
  children.push(spawn('smtp-sink', ['-u', 'postfix', `127.0.0.1:${sinkPort}`, '1024'], { stdio: 'ignore' }));
  await sleep(500);
  const doors: Door[] = [];
  try {
    doors.push(await startDoor('postscreen off', dns, sinkPort));
    doors.push(await startDoor('postscreen on', dns, sinkPort));
    // Each client's first connection: postscreen's pregreet wait and DNS list lookups, once a day.
    const firstSeconds: Record<string, number> = {};
    for (const door of doors) {
      const started = process.hrtime.bigint();
      await Promise.all(clients.map((client) => send(door, client, 1)));
      firstSeconds[door.name] = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(`${door.name.padEnd(15)} first connection of ${clients.length} new clients at once: ${firstSeconds[door.name]!.toFixed(2)} s`);
    }
    // postscreen is one long-lived process (maxproc 1): its CPU over the rounds is the door's own cost.
    const [postscreen] = daemons(doors[1]!, ['postscreen']);
    if (!postscreen) throw new Error('postscreen is not running in the "postscreen on" instance');
    const cpuBefore = { postscreen: cpuSeconds(postscreen), filter: cpuSeconds(doors[1]!.filter.pid!) };
    const rows: Row[] = [];
    for (let round = 1; round <= ROUNDS; round++)
      for (const mode of ['connection reused', 'one message per connection'] as const)
        for (const door of round % 2 === 1 ? doors : [...doors].reverse()) rows.push(await measure(door, mode, round, sinkPort));
    if (!daemons(doors[1]!, ['postscreen']).includes(postscreen)) throw new Error('postscreen restarted during the rounds: its CPU figure would be short');
    const onRows = rows.filter((r) => r.door === 'postscreen on');
    const cpu = {
      postscreenSeconds: cpuSeconds(postscreen) - cpuBefore.postscreen,
      filterSeconds: cpuSeconds(doors[1]!.filter.pid!) - cpuBefore.filter,
      connections: onRows.reduce((total, r) => total + (r.mode === 'connection reused' ? SESSIONS : r.messages), 0),
      messages: onRows.reduce((total, r) => total + r.messages, 0),
    };
    const screened = doors[1]!.postfix.log();
    report(rows, firstSeconds, cpu, {
      listed: screened.match(/dnsblog\[\d+\]: addr 127\.0\.1\.\d+ listed/g)?.length ?? 0,
      passedNew: screened.match(/postscreen\[\d+\]: PASS NEW \[127\.0\.1\./g)?.length ?? 0,
      passedOld: screened.match(/postscreen\[\d+\]: PASS OLD \[127\.0\.1\./g)?.length ?? 0,
    });
  } finally {
    for (const door of doors) await door.postfix.stop();
    for (const child of children) await stopChild(child);
    await dns.stop();
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  }
}

const BEGIN = '<!-- bench/door.ts -->';
const END = '<!-- /bench/door.ts -->';

function report(
  rows: Row[],
  firstSeconds: Record<string, number>,
  cpu: { postscreenSeconds: number; filterSeconds: number; connections: number; messages: number },
  seen: { listed: number; passedNew: number; passedOld: number },
): void {
  type Key = 'acceptedPerSecond' | 'deliveredPerSecond';
  const of = (door: Door['name'], mode: Row['mode']) => rows.filter((r) => r.door === door && r.mode === mode);
  /** on / off of each round, in round order. */
  const ratios = (mode: Row['mode'], key: Key) => of('postscreen on', mode).map((on, i) => on[key] / of('postscreen off', mode)[i]![key]);
  const geometricMean = (values: number[]) => Math.exp(values.reduce((total, v) => total + Math.log(v), 0) / values.length);
  const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  const total = (door: Door['name'], mode: Row['mode'], key: Key) => of(door, mode).reduce((sum, r) => sum + r[key], 0) / ROUNDS;
  const date = new Date().toISOString();
  const modes = ['connection reused', 'one message per connection'] as const;
  const lines = [
    BEGIN,
    '## The front door: postscreen on, for senders on no list',
    '',
    `Written by \`node --import tsx bench/door.ts\` on ${date.slice(0, 10)} (${cpus().length} cores, shared with other work: only ratios of neighbouring rows mean something). Postfix + our filter, passthrough (no checks, as the passthrough row above), 2 KB messages, into smtp-sink. ${SESSIONS} senders at once, each from its own loopback address outside mynetworks (127.0.1.x, so the door applies to them: smtp-source cannot bind an address, both rows use bench/smtp-client.ts), with the door as shipped (HELO and sender-domain checks, recipient verification against the final server, STARTTLS offered but not used) and the per-client limits raised out of the way. "postscreen on" adds postscreen with a DNS list and an allow list (\`bl.test*3\`, \`wl.test*-2\`) served by unbound on loopback (test/support/dns.ts), which lists none of the senders. ${ROUNDS} rounds of short batches (${SESSIONS * MESSAGES_PER_SESSION} and ${SESSIONS * ONE_PER_CONNECTION} messages), off and on back to back in alternating order, each batch delivered before the next starts; a round's ratio is on / off, and the table gives their geometric mean and range.`,
    '',
    '| sending | accepted msg/s, off (mean of rounds) | accepted msg/s, on | **on / off accepted** (geometric mean of the rounds) | range of the rounds | delivered msg/s, off / on | **on / off delivered end to end** | range of the rounds |',
    '|---|---|---|---|---|---|---|---|',
    ...modes.map(
      (mode) =>
        `| ${mode === 'connection reused' ? `connection reused (${MESSAGES_PER_SESSION} messages per connection, as an MTA's connection cache)` : `one message per connection (${ONE_PER_CONNECTION} connections per sender)`} | ${total('postscreen off', mode, 'acceptedPerSecond').toFixed(0)} | ${total('postscreen on', mode, 'acceptedPerSecond').toFixed(0)} | **${geometricMean(ratios(mode, 'acceptedPerSecond')).toFixed(2)}** | ${spread(ratios(mode, 'acceptedPerSecond'))} | ${total('postscreen off', mode, 'deliveredPerSecond').toFixed(0)} / ${total('postscreen on', mode, 'deliveredPerSecond').toFixed(0)} | **${geometricMean(ratios(mode, 'deliveredPerSecond')).toFixed(2)}** | ${spread(ratios(mode, 'deliveredPerSecond'))} |`,
    ),
    '',
    `A sender postscreen has not seen before waits once for the pregreet test (\`postscreen_greet_wait\`, 6 s): ${SESSIONS} new senders at once took ${firstSeconds['postscreen on']!.toFixed(1)} s with postscreen, ${firstSeconds['postscreen off']!.toFixed(1)} s without. Postscreen then remembers a sender (a day for the pregreet test, the lists' TTL for the DNS lists) and hands its connections to smtpd at once; after the hand-off it is out of the session. In this run postscreen passed ${seen.passedNew} new and ${seen.passedOld} known connections, and the DNS list listed ${seen.listed}.`,
    '',
    `The door's own CPU, which the shared machine does not blur: postscreen used ${(cpu.postscreenSeconds * 1000).toFixed(0)} ms of CPU for the ${cpu.connections} connections of the "on" rows (${((cpu.postscreenSeconds * 1e6) / cpu.connections).toFixed(0)} µs each), while our passthrough filter alone used ${(cpu.filterSeconds * 1000).toFixed(0)} ms for their ${cpu.messages} messages (${((cpu.filterSeconds * 1000) / cpu.messages).toFixed(2)} ms each): with one message per connection postscreen adds ${((100 * (cpu.postscreenSeconds / cpu.connections)) / (cpu.filterSeconds / cpu.messages)).toFixed(1)}% to the CPU the passthrough filter spends on a message, and a tenth of that with ${MESSAGES_PER_SESSION} messages per connection (CPU counted in clock ticks of 10 ms).`,
    END,
  ];
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(resolve('bench/results/door.json'), JSON.stringify({ date, sessions: SESSIONS, firstSeconds, cpu, seen, rows }, null, 2) + '\n');
  // In place when the page has the section; else after bench.ts's tables, before the other benches' sections.
  const docs = 'docs/benchmarks.md';
  const current = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
  const section = lines.join('\n');
  const start = current.indexOf(BEGIN);
  const stop = current.indexOf(END);
  const others = ['<!-- bench/auth.ts -->', '## Containers'].map((mark) => current.indexOf(mark)).filter((at) => at >= 0);
  const at = others.length ? Math.min(...others) : -1;
  const page =
    start >= 0 && stop > start
      ? current.slice(0, start) + section + current.slice(stop + END.length)
      : at >= 0
        ? `${current.slice(0, at)}${section}\n\n${current.slice(at)}`
        : `${current.replace(/\n*$/, '\n\n')}${section}\n`;
  writeFileSync(docs, page);
  console.log(`\nwritten: bench/results/door.json, ${docs}`);
}

main().catch(async (err: Error) => {
  console.error(`door bench failed: ${err.stack ?? err.message}`);
  for (const child of children) await stopChild(child);
  process.exitCode = 1;
});
