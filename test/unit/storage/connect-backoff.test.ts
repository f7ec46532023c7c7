// The back-off on new connections to the shared database, step by step on a clock the test moves:
// which attempts reach the connector, which fail at once and what they say, how the window grows
// and when it ends, and the one log line per change of state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger, LogFields } from '../../../runtime/log.js';
import { ConnectBackoff } from '../../../runtime/storage/connect-backoff.js';
import { isDatabaseUnavailable } from '../../../runtime/storage/unavailable.js';

const TIMEOUT_MS = 10_000;
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

/** A back-off on a hand-moved clock, with a connector whose every call the test settles itself. */
function setUp() {
  let clock = 1_000_000;
  const lines: Array<{ level: string; message: string; fields: LogFields }> = [];
  const record =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      lines.push({ level, message, fields });
  const log: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  const backoff = new ConnectBackoff({ host: 'db.company.local:5432', log, now: () => clock });
  const calls: Array<{ resolve: (value: string) => void; reject: (err: Error) => void }> = [];
  const connector = () => new Promise<string>((resolve, reject) => calls.push({ resolve, reject }));
  return {
    backoff,
    lines,
    calls,
    advance: (ms: number) => (clock += ms),
    attempt: () => backoff.attempt(connector, TIMEOUT_MS),
    /** An attempt that times out: the connector gives up after the whole timeout. */
    async timesOut() {
      const attempt = backoff.attempt(connector, TIMEOUT_MS);
      clock += TIMEOUT_MS;
      calls.at(-1)!.reject(new Error('Connection terminated unexpectedly'));
      await assert.rejects(attempt, /terminated unexpectedly/);
    },
  };
}

async function heldBack(attempt: Promise<unknown>): Promise<string> {
  const err = await attempt.then(
    () => assert.fail('the attempt should have been held back'),
    (e: unknown) => e as Error,
  );
  assert.equal(isDatabaseUnavailable(err), true, `${err.message} counts as unavailable`);
  return err.message;
}

test('after a timed-out attempt, new connections fail at once saying why until the window ends; then one probe goes', async () => {
  const t = setUp();
  await t.timesOut();
  assert.equal(t.calls.length, 1);
  t.advance(3_000);
  assert.equal(await heldBack(t.attempt()), 'shared database unreachable (last try 3 s ago timed out after 10 s; next try in 2 s)');
  for (let i = 0; i < 5; i++) await heldBack(t.attempt());
  assert.equal(t.calls.length, 1, 'none of the held-back attempts reached the connector');

  t.advance(2_000);
  const probe = t.attempt();
  assert.equal(t.calls.length, 2, 'the window over, the next attempt is a probe');
  assert.match(await heldBack(t.attempt()), /; a try is under way\)$/, 'a second attempt during the probe is held back');
  assert.equal(t.calls.length, 2, 'one probe at a time');
  t.calls[1]!.resolve('connection');
  assert.equal(await probe, 'connection');
  assert.equal(t.backoff.unreachable, false);
  const next = t.attempt();
  assert.equal(t.calls.length, 3, 'after the probe got through, attempts go as before');
  t.calls[2]!.resolve('another');
  await next;
});

test('each failed probe doubles the window, up to 60 s; a refused connection counts as a failure too', async () => {
  const t = setUp();
  await t.timesOut();
  const windows: number[] = [];
  for (let round = 0; round < 6; round++) {
    // Wait out the window second by second, counting; the probe is then refused at once.
    let waited = 0;
    while (true) {
      const attempt = t.attempt();
      if (t.calls.length === round + 2) {
        t.calls.at(-1)!.reject(withCode('connect ECONNREFUSED 10.0.0.5:5432', 'ECONNREFUSED'));
        await assert.rejects(attempt, /ECONNREFUSED/);
        break;
      }
      await heldBack(attempt);
      t.advance(1_000);
      waited += 1_000;
    }
    windows.push(waited);
  }
  // The first window follows the timeout; each probe's failure begins a window twice as long.
  assert.deepEqual(windows, [5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  assert.match(await heldBack(t.attempt()), /\(last try 0 s ago failed: connect ECONNREFUSED 10\.0\.0\.5:5432; next try in 60 s\)/);
  const err = (await t.attempt().catch((e: unknown) => e)) as Error;
  assert.equal((err.cause as Error).message, 'connect ECONNREFUSED 10.0.0.5:5432', 'the last try’s error is its cause');
});

test('a success resets the window, and the log has one line per change of state, naming the host', async () => {
  const t = setUp();
  await t.timesOut();
  for (let round = 0; round < 3; round++) {
    t.advance(60_000);
    await t.timesOut();
    await heldBack(t.attempt());
  }
  t.advance(60_000);
  const probe = t.attempt();
  t.calls.at(-1)!.resolve('connection');
  await probe;
  assert.deepEqual(
    t.lines.map((l) => [l.level, l.message, l.fields.host]),
    [
      ['warn', 'shared database unreachable: new connections fail at once until a probe gets through', 'db.company.local:5432'],
      ['info', 'shared database reachable again', 'db.company.local:5432'],
    ],
  );
  assert.equal(t.lines[0]!.fields.error, 'timed out after 10 s');
  assert.equal(t.lines[1]!.fields.unreachableForSeconds, 270);

  await t.timesOut();
  t.advance(4_000);
  assert.match(await heldBack(t.attempt()), /next try in 1 s/, 'the next outage starts again at 5 s');
  assert.equal(t.lines.length, 3);
});

test('attempts begun before the host was known unreachable end as they end, without lengthening the window', async () => {
  const t = setUp();
  const started = [t.attempt(), t.attempt(), t.attempt()];
  assert.equal(t.calls.length, 3, 'while the host is reachable, attempts go side by side');
  t.advance(TIMEOUT_MS);
  for (const call of t.calls) call.reject(new Error('Connection terminated unexpectedly'));
  for (const attempt of started) await assert.rejects(attempt);
  t.advance(4_000);
  assert.match(await heldBack(t.attempt()), /next try in 1 s/);
  assert.equal(t.lines.length, 1, 'one line for the three failures');
});

test('an answer that is no outage (a refused password, a bad certificate) holds nothing back', async () => {
  const t = setUp();
  const refused = t.attempt();
  t.calls[0]!.reject(withCode('password authentication failed for user "mailfilter"', '28P01'));
  await assert.rejects(refused, /password authentication failed/);
  const next = t.attempt();
  assert.equal(t.calls.length, 2);
  t.calls[1]!.resolve('connection');
  await next;

  // A probe refused that way ends the outage too: the host answered.
  await t.timesOut();
  t.advance(5_000);
  const probe = t.attempt();
  t.calls.at(-1)!.reject(Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }));
  await assert.rejects(probe, /self-signed/);
  assert.equal(t.backoff.unreachable, false);
  assert.deepEqual(
    t.lines.map((l) => l.level),
    ['warn', 'info'],
  );
});
