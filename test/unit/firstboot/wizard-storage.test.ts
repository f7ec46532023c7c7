// The wizard's shared-storage question: no by default (an appliance alone); yes asks for the
// database server's CA and the connection string, which is checked as typed (its form by the
// config's rule, then a connection: here to a port where nothing listens, the database itself is
// test/integration/cluster-join.test.ts's). The password never shows, in brackets or on the review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Wizard } from '../../../firstboot/wizard.js';
import { answersToConfig, defaultAnswers, storageAnswers } from '../../../firstboot/answers.js';
import { reviewLines } from '../../../firstboot/questions.js';
import { defaultConfig, parseConfig } from '../../../runtime/config/load.js';
import { freePort } from '../../support/net.js';
import { answerAll, directoryReplies, keepDefaults } from '../../support/wizard-replies.js';

// An SMTP appliance with DHCP, through the directory questions: the storage question is next.
const throughDirectory = ['mx.company.com', 'yes', 'smtp', 'company.com', '', '192.168.100.20', ...keepDefaults(18), ...directoryReplies('pw')];

function atStorage(answers = defaultAnswers()): Wizard {
  const wizard = new Wizard(
    answers,
    () => null,
    undefined,
    undefined,
    (a) => `schema found at ${a.storageUrl.length} characters`,
  );
  answerAll(wizard, throughDirectory);
  assert.match(wizard.screen().prompt, /Share storage with other appliances \(PostgreSQL\)\? \(Yes\/No\)/);
  return wizard;
}

test('the default is no: an appliance alone, the review says so, the config keeps SQLite', () => {
  const wizard = atStorage();
  assert.equal(wizard.screen().defaultShown, 'no');
  assert.equal(wizard.screen().section, 'Integration configuration');
  answerAll(wizard, ['']);
  assert.equal(wizard.screen().kind, 'review');
  assert.ok(wizard.screen().review.includes('  Shared storage (PostgreSQL): no, this appliance alone'));
  assert.equal(answersToConfig(wizard.answers, defaultConfig()).storage.backend, 'sqlite');
});

test('yes asks for the CA and the connection string, checks its form and then connects', async () => {
  const wizard = atStorage();
  answerAll(wizard, ['yes']);
  assert.match(wizard.screen().prompt, /CA certificate file \(PEM\) that signed the database server's certificate \('public'/);
  assert.equal(wizard.screen().defaultShown, 'public');
  assert.match(wizard.submit('/no/such/ca.crt') ?? '', /There is no file \/no\/such\/ca\.crt\./);
  answerAll(wizard, ['']);
  assert.equal(wizard.answers.storageCaFile, '');
  assert.match(wizard.screen().prompt, /PostgreSQL connection string \(postgresql:\/\/user:password@host:5432\/database\)/);
  assert.match(wizard.screen().help, /Enter checks it at once/);
  assert.equal(wizard.submit(''), 'Enter a value.');
  assert.match(wizard.submit('mysql://u:p@db/x') ?? '', /^Enter a PostgreSQL connection string, not mysql:/);
  assert.match(wizard.submit('postgresql://u:p@db.company.local/x?sslmode=disable') ?? '', /must reach db\.company\.local over TLS|over TLS/);
  const port = await freePort();
  const error = wizard.submit(`postgresql://mailfilter:s3cret-pw@127.0.0.1:${port}/mailfilter`) ?? '';
  assert.match(error, new RegExp(`^Cannot share it: nothing answers at 127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
  assert.doesNotMatch(error, /s3cret-pw/);
  assert.match(wizard.screen().prompt, /PostgreSQL connection string/, 'refused: the question stays');
});

test('a connection string answered before shows with its password masked, in brackets and on the review', () => {
  const url = 'postgresql://mailfilter:s3cret-pw@db.company.local:5432/mailfilter';
  const wizard = atStorage({ ...defaultAnswers(), sharedStorage: true, storageUrl: url, storageCaFile: '/etc/mailfilter/db-ca.crt' });
  assert.equal(wizard.screen().defaultShown, 'yes');
  answerAll(wizard, ['']);
  assert.equal(wizard.screen().defaultShown, '/etc/mailfilter/db-ca.crt');
  wizard.submit('public');
  assert.equal(wizard.screen().defaultShown, 'postgresql://mailfilter:********@db.company.local:5432/mailfilter');
  const review = reviewLines(
    { ...wizard.answers, storageCaFile: '/etc/mailfilter/db-ca.crt' },
    undefined,
    undefined,
    'PostgreSQL 15.10 at db: schema version 4',
  ).join('\n');
  assert.match(review, /Shared storage \(PostgreSQL\): yes, postgresql:\/\/mailfilter:\*{8}@db\.company\.local:5432\/mailfilter/);
  assert.match(review, /Database server's CA: \/etc\/mailfilter\/db-ca\.crt/);
  assert.match(review, /Found: PostgreSQL 15\.10 at db: schema version 4/);
  assert.doesNotMatch(review, /s3cret-pw/);
});

test('the storage answers make the storage settings; a later run offers what the node’s config says now', () => {
  const url = 'postgresql://mailfilter:pw@db.company.local/mailfilter';
  const answers = {
    ...defaultAnswers(),
    hostname: 'mx.company.com',
    dhcp: true,
    mode: 'smtp' as const,
    externalDomain: 'company.com',
    internalDomain: 'company.com',
    finalServer: '192.168.1.20',
    exchange: false,
  };
  const shared = answersToConfig({ ...answers, sharedStorage: true, storageUrl: url, storageCaFile: '/etc/ca.crt' }, defaultConfig());
  assert.deepEqual(shared.storage, { backend: 'postgresql', url, caFile: '/etc/ca.crt' });
  // No: back to SQLite; a connection string set by hand (for `storage migrate`) stays.
  const alone = answersToConfig({ ...answers, sharedStorage: false }, shared);
  assert.deepEqual(alone.storage, { backend: 'sqlite', url, caFile: '/etc/ca.crt' });
  // `mailfilter cluster join` wrote the config after the wizard ran: its storage is the default now.
  const joined = parseConfig({ storage: { backend: 'postgresql', url, caFile: '' } });
  assert.deepEqual(storageAnswers(joined), { sharedStorage: true, storageUrl: url, storageCaFile: '' });
  assert.deepEqual(storageAnswers(defaultConfig()), { sharedStorage: false, storageUrl: '', storageCaFile: '' });
});
