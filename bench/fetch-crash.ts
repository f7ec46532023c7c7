// Crash test of fetch mode, run by hand (slow, random; not in the suite):
//   node --import tsx bench/fetch-crash.ts            # keep off and keep on, 300 messages per mailbox
//   FETCH_CRASH_MESSAGES=100 FETCH_CRASH_KEEP=off node --import tsx bench/fetch-crash.ts
// A real Dovecot (one POP3 and one IMAP mailbox) and the real Postfix + filter chain. `mailfilter
// fetch --once` is started again and again and SIGKILLed at a random moment mid-poll, until a run
// ends by itself with nothing left to fetch. Then every message must be at the sink: it counts the
// lost (must be 0), the duplicates (the price of a kill between Postfix's 250 and the seen-state
// write) and the files found in <stateDir>/tmp after each kill (removed by the next start).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../runtime/config/schema.js';
import { startChain, type Chain } from '../test/support/chain.js';
import { startDovecot, type Dovecot } from '../test/support/dovecot.js';
import { buildMessage } from '../test/support/messages.js';
import { waitFor } from '../test/support/net.js';
import { makeTestCerts } from '../test/support/tls.js';

const REPO = resolve(import.meta.dirname, '..');
const MESSAGES = Number(process.env.FETCH_CRASH_MESSAGES ?? 300);
const KEEPS = (process.env.FETCH_CRASH_KEEP ?? 'off,on').split(',').map((k) => k.trim() === 'on');

interface RunReport {
  keep: boolean;
  mailboxes: number;
  messagesPerMailbox: number;
  kills: number;
  lost: number;
  duplicates: number;
  transitFilesAfterKills: number;
  transitFilesAfterLastStart: number;
  seconds: number;
}

function fetchOnce(configFile: string): { exited: Promise<number | null>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'runtime/cli.ts'), 'fetch', '--once', '--config', configFile], {
    cwd: REPO,
    env: { ...process.env, MAILFILTER_LOG_LEVEL: process.env.MAILFILTER_LOG_LEVEL ?? 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { exited: new Promise((done) => child.once('exit', (code) => done(code))), kill: () => child.kill('SIGKILL') };
}

function subjectCounts(chain: Chain, subjects: Set<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of chain.sink.messages) {
    const subject = /^Subject: (.*)$/m.exec(message.raw)?.[1]?.trim();
    if (subject && subjects.has(subject)) counts.set(subject, (counts.get(subject) ?? 0) + 1);
  }
  return counts;
}

const mailboxesFor = (keep: boolean) => ['pop', 'imap'].map((protocol) => `${protocol}-${keep ? 'keep' : 'delete'}@company.com`);

async function crashRun(chain: Chain, dovecot: Dovecot, caFile: string, keep: boolean): Promise<RunReport> {
  const started = Date.now();
  const tag = `crash-${keep ? 'keep' : 'delete'}-${Date.now()}`;
  const users = mailboxesFor(keep);
  const subjects = new Set<string>();
  for (const user of users) {
    for (let i = 0; i < MESSAGES; i++) {
      const subject = `${tag} ${user} ${i}`;
      subjects.add(subject);
      dovecot.deliver(user, buildMessage({ subject, to: user }));
    }
  }
  const dir = join(chain.dir, 'fetch-crash', tag);
  mkdirSync(dir, { recursive: true });
  const servers = users.map((user, i) => ({
    host: '127.0.0.1',
    ...(i === 0 ? { protocol: 'pop3', tls: 'implicit', port: dovecot.ports.pop3s } : { protocol: 'imap', tls: 'starttls', port: dovecot.ports.imap }),
    caFile,
    accounts: [{ user, password: `pw-${user}`, deliverTo: `${user.split('@')[0]}@company.local`, keep }],
  }));
  writeFileSync(join(dir, 'accounts.json'), JSON.stringify({ servers }));
  const config: AppConfig = { ...chain.config, fetch: { ...chain.config.fetch, stateDir: join(dir, 'state'), accountsFile: join(dir, 'accounts.json') } };
  const configFile = join(dir, 'mailfilter.json');
  writeFileSync(configFile, JSON.stringify(config));
  const transitDir = join(config.fetch.stateDir, 'tmp');
  const inTransit = () => {
    try {
      return readdirSync(transitDir).length;
    } catch {
      return 0;
    }
  };

  let kills = 0;
  let transitFilesAfterKills = 0;
  for (;;) {
    const run = fetchOnce(configFile);
    // Past start-up (about a second for tsx), then anywhere in the poll.
    const killAfter = 1200 + Math.random() * 2500;
    const outcome = await Promise.race([run.exited.then((code) => ({ code })), sleep(killAfter).then(() => null)]);
    if (outcome) {
      if (outcome.code !== 0) throw new Error(`fetch --once exited with ${outcome.code}`);
      break;
    }
    run.kill();
    await run.exited;
    kills += 1;
    transitFilesAfterKills += inTransit();
  }
  const transitFilesAfterLastStart = inTransit();
  // keep on: the run that ended by itself fetched everything new; one more must find nothing.
  if (keep) {
    const last = fetchOnce(configFile);
    if ((await last.exited) !== 0) throw new Error('the last fetch --once failed');
  } else if (users.some((user) => dovecot.count(user) !== 0)) {
    throw new Error(`keep off, and the mailboxes still hold ${users.map((u) => dovecot.count(u)).join(' + ')} messages`);
  }
  // Everything at the sink, or the chain idle (queue empty, sink not growing) for 10 s.
  let last = { delivered: -1, at: Date.now() };
  await waitFor(
    'the chain to deliver everything',
    async () => {
      const counts = subjectCounts(chain, subjects);
      if (counts.size === subjects.size) return true;
      const delivered = [...counts.values()].reduce((a, b) => a + b, 0);
      if (delivered !== last.delivered) last = { delivered, at: Date.now() };
      return Date.now() - last.at > 10_000 && (await chain.postfix.queueSize()) === 0;
    },
    900_000,
    1000,
  );
  const counts = subjectCounts(chain, subjects);
  const lost = [...subjects].filter((s) => !counts.has(s)).length;
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  return {
    keep,
    mailboxes: users.length,
    messagesPerMailbox: MESSAGES,
    kills,
    lost,
    duplicates,
    transitFilesAfterKills,
    transitFilesAfterLastStart,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

async function main(): Promise<void> {
  let chain: Chain | undefined;
  let dovecot: Dovecot | undefined;
  try {
    chain = await startChain();
    const certs = makeTestCerts(join(chain.dir, 'certs'));
    // Dovecot reads its users once, at start: every run's mailboxes are declared here.
    const users = KEEPS.flatMap(mailboxesFor);
    dovecot = await startDovecot(join(chain.dir, 'dovecot'), certs, Object.fromEntries(users.map((user) => [user, `pw-${user}`])));
    const reports: RunReport[] = [];
    for (const keep of KEEPS) {
      const report = await crashRun(chain, dovecot, certs.caCert, keep);
      console.log(JSON.stringify(report));
      reports.push(report);
    }
    if (reports.some((r) => r.lost > 0)) process.exitCode = 1;
  } finally {
    await dovecot?.stop();
    await chain?.stop();
  }
}

await main();
