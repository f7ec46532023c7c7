import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionTokens, loadLinkSecret } from '../../../runtime/actions/tokens.js';

test('a link token is bound to its action, message, user and expiry; any change is caught', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokens-'));
  const secret = loadLinkSecret(dir);
  assert.deepEqual(loadLinkSecret(dir), secret, 'made once, then read');
  assert.equal(statSync(join(dir, 'action-links.key')).mode & 0o777, 0o600);
  const tokens = new ActionTokens(secret);
  const token = tokens.sign({ action: 'release', messageId: 'M1', userId: 3, expiresAt: Date.now() + 60_000 });
  const check = tokens.verify(token);
  assert.ok(check.ok);
  assert.deepEqual(check.ok && [check.claims.action, check.claims.messageId, check.claims.userId], ['release', 'M1', 3]);
  assert.notEqual(
    tokens.sign({ action: 'release', messageId: 'M1', userId: 3, expiresAt: 1e15 }),
    tokens.sign({ action: 'release', messageId: 'M1', userId: 3, expiresAt: 1e15 }),
    'each token has its own nonce',
  );

  const [payload, mac] = token.split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const forged = Buffer.from(JSON.stringify({ ...claims, action: 'delete' })).toString('base64url');
  assert.deepEqual(tokens.verify(`${forged}.${mac}`), { ok: false, why: 'tampered' });
  assert.deepEqual(tokens.verify(`${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`), { ok: false, why: 'tampered' });
  assert.deepEqual(tokens.verify(payload), { ok: false, why: 'malformed' });
  assert.deepEqual(new ActionTokens(Buffer.alloc(32, 7)).verify(token), { ok: false, why: 'tampered' }, 'another appliance’s secret');
  const expired = tokens.verify(tokens.sign({ action: 'delete', messageId: 'M1', userId: 3, expiresAt: Date.now() - 1 }));
  assert.equal(!expired.ok && expired.why, 'expired');
});
