// A setup that cannot work must fail quickly and say why, leaving no server of its own running:
// otherwise a broken machine makes CI wait out its time limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startChain } from '../support/chain.js';
import { processesOfRun } from '../support/run-marker.js';

test('a chain whose spamd cannot start fails within minutes, names spamd, and leaves nothing running', { timeout: 300_000 }, async () => {
  const outer = process.env.MAILFILTER_RUN_ID;
  const runId = `broken-setup-${randomBytes(4).toString('hex')}`;
  process.env.MAILFILTER_RUN_ID = runId;
  const started = Date.now();
  try {
    await assert.rejects(startChain({}, { spamdArgs: ['--no-such-option'] }), /spamd did not start/);
  } finally {
    if (outer === undefined) delete process.env.MAILFILTER_RUN_ID;
    else process.env.MAILFILTER_RUN_ID = outer;
  }
  assert.ok(Date.now() - started < 120_000, `failed after ${Date.now() - started} ms`);
  assert.deepEqual(processesOfRun(runId), [], 'clamd and the sink were stopped, Postfix never started');
});
