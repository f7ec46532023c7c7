import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSWER_SETTINGS, WIZARD_OWN_DEFAULTS, answersToConfig, defaultAnswers, type Answers } from '../../../firstboot/answers.js';
import { schema } from '../../../runtime/config/schema.js';
import type { Field } from '../../../runtime/config/fields.js';
import { defaultConfig } from '../../../runtime/config/load.js';

const settings = Object.entries(ANSWER_SETTINGS) as Array<[keyof Answers, Field<unknown>]>;

/** Where a field sits in the schema: [section, key]. */
function pathOf(field: Field<unknown>): [string, string] {
  for (const [section, fields] of Object.entries(schema)) {
    for (const [key, candidate] of Object.entries(fields)) if (candidate === field) return [section, key];
  }
  throw new Error('not a schema field');
}

test('every wizard default equals the schema default of the setting it fills', () => {
  const answers = defaultAnswers();
  for (const [id, field] of settings) assert.deepEqual(answers[id], field.default, `${id} (${pathOf(field).join('.')})`);
});

test('every answer either fills a setting or has a default of the wizard’s own', () => {
  const declared = [...Object.keys(ANSWER_SETTINGS), ...Object.keys(WIZARD_OWN_DEFAULTS)].sort();
  assert.deepEqual(Object.keys(defaultAnswers()).sort(), declared);
});

test('each answer lands in the setting it is declared to fill', () => {
  // Unlike every default, so a mix-up between two settings shows; fetch mode, static address and
  // Exchange on, where every one of these answers is written.
  const answers: Answers = {
    ...defaultAnswers(),
    hostname: 'mx.company.com',
    dhcp: false,
    address: '192.168.1.5',
    netmask: '255.255.255.0',
    gateway: '192.168.1.1',
    dns1: '192.168.1.1',
    dns2: '192.168.1.2',
    mode: 'fetchmail',
    keep: false,
    externalDomain: 'company.com',
    internalDomain: 'company.local',
    finalServer: '192.168.1.20',
    relayDomains: ['company.com', 'company.local'],
    allowedNetworks: ['192.168.1.0/24'],
    dkimSign: true,
    dkimSelector: 's2026',
    dkimAlgorithm: 'ed25519',
    dnsLists: ['zen.spamhaus.org'],
    verifyRecipients: false,
    tlsCert: '/etc/ssl/mx.company.com.crt',
    tlsKey: '/etc/ssl/private/mx.company.com.key',
    outboundTls: 'verify',
    outboundCaFile: '/etc/ssl/company-ca.crt',
    spamDestiny: 'D_DISCARD',
    virusDestiny: 'D_PASS',
    bannedDestiny: 'D_DISCARD',
    uncheckedDestiny: 'D_BOUNCE',
    spoofedDestiny: 'D_BOUNCE',
    badHeaderDestiny: 'D_BOUNCE',
    spamLevel: 7.5,
    allowBannedInArchives: true,
    saMaxBodySize: 1048576,
    quarantineMaxMb: 900,
    extraRules: false,
    viewerEnabled: false,
    exchange: true,
    ldapServer: 'dc.company.local',
    ldapUser: 'sync@company.local',
    ldapPassword: 'secret',
    ldapBaseDn: 'DC=company,DC=local',
    sharedStorage: true,
    storageUrl: 'postgresql://mailfilter:pw@db.company.local:5432/mailfilter',
    storageCaFile: '/etc/ssl/db-ca.crt',
  };
  // DHCP and SMTP mode would leave the address and keep unwritten: those two are checked apart.
  const apart = { dhcp: true, mode: 'smtp' } as const;
  const configOf = (a: Answers) => answersToConfig(a, defaultConfig()) as unknown as Record<string, Record<string, unknown>>;
  const [config, configApart] = [configOf(answers), configOf({ ...answers, ...apart })];
  for (const [id, field] of settings) {
    const [section, key] = pathOf(field);
    const [given, made] = id in apart ? [apart[id as keyof typeof apart], configApart] : [answers[id], config];
    assert.notDeepEqual(given, field.default, `${id}: the test gives it a value of its own`);
    assert.deepEqual(made[section]![key], given, `${id} -> ${section}.${key}`);
  }
});
