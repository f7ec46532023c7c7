import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAccounts, accountKey } from '../../../runtime/fetch/accounts.js';
import { envelopeSender } from '../../../runtime/fetch/inject.js';
import { ConfigError } from '../../../runtime/config/load.js';

test('defaults: implicit TLS on the protocol’s port, certificate checked, keep from the wizard', () => {
  const [pop, imap] = parseAccounts(
    {
      servers: [
        { host: 'mail.company.com', protocol: 'pop3', accounts: [{ user: 'user_one@company.com', password: 'p', deliverTo: 'user_one@company.local' }] },
        {
          host: 'mail.company.com',
          protocol: 'imap',
          tls: 'starttls',
          accounts: [{ user: 'u2', password: 'p', deliverTo: 'u2@company.local', keep: false, folder: 'Archive' }],
        },
      ],
    },
    true,
  );
  assert.deepEqual([pop!.port, pop!.tls, pop!.verifyCertificate, pop!.accounts[0]!.keep], [995, 'implicit', true, true]);
  assert.deepEqual([imap!.port, imap!.accounts[0]!.keep], [143, false]);
  assert.equal(accountKey(imap!, imap!.accounts[0]!), 'imap://u2@mail.company.com:143/Archive');
});

test('every problem is named by its place in the file; plain text needs consent', () => {
  try {
    parseAccounts(
      {
        servers: [
          { host: 'mail.company.com', protocol: 'smtp', tls: 'none', accounts: [{ user: 'a b', deliverTo: 'nobody' }] },
          { host: '', accounts: [] },
        ],
      },
      true,
    );
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.match(text, /^servers\[0\]\.protocol: must be one of pop3, imap/m);
    assert.match(text, /^servers\[0\]\.tls: "none" sends passwords in clear text; set allowPlaintext: true/m);
    assert.match(text, /^servers\[0\]\.accounts\[0\]\.user: must be a user name without spaces/m);
    assert.match(text, /^servers\[0\]\.accounts\[0\]\.deliverTo: must be an e-mail address/m);
    assert.match(text, /^servers\[1\]\.host: required/m);
    assert.match(text, /^servers\[1\]\.accounts: must list at least one account/m);
  }
});

test('the envelope sender comes from Return-Path, else From, else the null sender', () => {
  assert.equal(envelopeSender('<bounces@list.example>', 'Alice <alice@x.com>'), 'bounces@list.example');
  assert.equal(envelopeSender(undefined, 'Alice <alice@x.com>'), 'alice@x.com');
  assert.equal(envelopeSender('<>', 'Alice <alice@x.com>'), '');
  assert.equal(envelopeSender(undefined, 'garbage'), '');
});
