// `npm start`, as a newcomer meets it: the whole appliance on loopback from one command. The swaks
// lines it prints are run as printed; EICAR must be held (seen in the viewer through HTTPS), GTUBE
// and a clean message delivered into the state folder; Ctrl-C must leave no process behind, and a
// second start while one runs must refuse without starting anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { launchChromium, logIn } from '../support/chromium.js';
import { processesOfRun } from '../support/run-marker.js';
import { waitFor } from '../support/net.js';

const runId = `test-start-${randomBytes(4).toString('hex')}`;
let dir: string;
let stateDir: string;
let start: ChildProcess | null = null;
let output = '';
let browser: Browser | undefined;

function npmStart(id: string): ChildProcess {
  // Its own process group, as a terminal's foreground job: Ctrl-C is SIGINT to the whole group.
  const child = spawn('npm', ['start'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MAILFILTER_STATE_DIR: stateDir, MAILFILTER_RUN_ID: id, MAILFILTER_LOG_LEVEL: 'warn' },
  });
  return child;
}

/** Sends a signal to the child's whole process group, if any of it is left. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // the whole group has already exited
  }
}

/** Ctrl-C: how it ended, as a shell would say it (npm itself dies of the SIGINT it passed on). */
function ctrlC(child: ChildProcess): Promise<string> {
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  signalGroup(child, 'SIGINT');
  return exited;
}

before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailfilter-start-'));
    chmodSync(dir, 0o755);
    stateDir = join(dir, 'var');
    start = npmStart(runId);
    start.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    start.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(
      'npm start to say it is running',
      () => {
        if (start!.exitCode !== null) throw new Error(`npm start exited with ${start!.exitCode}:\n${output}`);
        return output.includes('Ctrl-C stops everything.');
      },
      300_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
  },
  { timeout: 330_000 },
);

after(async () => {
  await browser?.close();
  if (start && start.exitCode === null && start.signalCode === null) {
    signalGroup(start, 'SIGINT');
    await waitFor('npm start to stop', () => start!.exitCode !== null || start!.signalCode !== null, 60_000).catch(() => signalGroup(start!, 'SIGKILL'));
  }
  if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
});

test('a second start while one runs says so and starts nothing', { timeout: 120_000 }, async () => {
  const secondId = `${runId}-second`;
  const second = npmStart(secondId);
  let said = '';
  second.stdout!.on('data', (c: Buffer) => (said += c.toString()));
  second.stderr!.on('data', (c: Buffer) => (said += c.toString()));
  const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(said, /already running \(pid \d+/);
  assert.deepEqual(processesOfRun(secondId), []);
});

test('the printed swaks lines work: EICAR held and seen in the viewer, GTUBE tagged and clean delivered', { timeout: 240_000 }, async () => {
  const swaksLines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('swaks '));
  assert.equal(swaksLines.length, 3, `three swaks lines in:\n${output}`);
  for (const line of swaksLines) {
    const said = execFileSync('bash', ['-c', line], { encoding: 'utf8', timeout: 60_000 });
    assert.match(said, /<- {2}250 2\.0\.0 Ok: queued/, `accepted: ${line}`);
  }
  const delivered = join(stateDir, 'delivered');
  const subjects = await waitFor(
    'two messages delivered',
    () => {
      if (!existsSync(delivered)) return false;
      const found = readdirSync(delivered)
        .filter((f) => f.endsWith('.eml'))
        .map((f) => /^Subject: (.*)$/m.exec(readFileSync(join(delivered, f), 'utf8'))?.[1] ?? '');
      return found.length >= 2 ? found.sort() : false;
    },
    120_000,
    250,
  );
  assert.deepEqual(subjects, ['***SPAM*** GTUBE test', 'hello']);

  const viewerUrl = /https:\/\/127\.0\.0\.1:\d+\/viewer\//.exec(output)?.[0];
  assert.ok(viewerUrl, 'the viewer address is printed');
  const base = viewerUrl.replace(/\/viewer\/$/, '');
  browser = await launchChromium();
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
  await logIn(page, base, 'vadmin', 'password');
  // vadmin's initial password must be changed first, as a newcomer will.
  if (await page.locator('#current').count()) {
    await page.fill('#current', 'password');
    await page.fill('#next', 'newcomer-password-1');
    await page.fill('#again', 'newcomer-password-1');
    await page.click('main button[type=submit]');
  }
  await waitFor(
    'the EICAR message in the viewer',
    async () => {
      await page.goto(`${base}/viewer/messages`);
      return /EICAR test/.test((await page.textContent('main')) ?? '');
    },
    60_000,
    1000,
  );
  assert.match((await page.textContent('main')) ?? '', /VIRUS/);
});

test('Ctrl-C stops every part, leaving no process of the run', { timeout: 120_000 }, async () => {
  assert.ok(start);
  assert.ok(processesOfRun(runId).length > 0, 'the run has processes while it runs');
  const ended = await ctrlC(start);
  assert.ok(['exit 0', 'SIGINT'].includes(ended), `ended by ${ended}:\n${output}`);
  const left = await waitFor('every process of the run to end', () => (processesOfRun(runId).length === 0 ? 'none' : false), 20_000, 250).catch(() =>
    processesOfRun(runId),
  );
  assert.equal(left, 'none', `left running: ${JSON.stringify(left)}`);
  assert.ok(!existsSync(join(stateDir, 'start.pid')), 'the lock is released');
});
