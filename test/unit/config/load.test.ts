import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultConfig, loadConfig, parseConfig } from '../../../runtime/config/load.js';

test('defaults are the 2006 wizard’s answers', () => {
  const { policy, quarantine, viewer, mail, directory, fetch } = defaultConfig();
  assert.equal(policy.spamDestiny, 'D_PASS');
  assert.equal(policy.virusDestiny, 'D_BOUNCE');
  assert.equal(policy.bannedDestiny, 'D_BOUNCE');
  assert.equal(policy.badHeaderDestiny, 'D_PASS');
  assert.equal(policy.spamLevel, 6.31);
  assert.equal(policy.allowBannedInArchives, false);
  assert.equal(policy.saMaxBodySize, 524288);
  assert.equal(policy.extraRules, true);
  assert.equal(quarantine.maxSizeMb, 500);
  assert.equal(viewer.enabled, true);
  assert.deepEqual(viewer.allowedDownloadTypes, ['SPAM', 'BADH']);
  assert.equal(mail.mode, 'fetchmail');
  assert.deepEqual(mail.allowedNetworks, ['host']);
  assert.equal(directory.allowInsecure, false);
  assert.equal(fetch.keep, true);
  for (const ext of ['exe', 'vbs', 'scr', 'pif', 'bat', 'cmd', 'com', 'cpl', 'js', 'jse', 'wsf', 'hta']) assert.ok(policy.bannedExtensions.includes(ext), ext);
});

test('every problem is reported, each named by its path', () => {
  try {
    parseConfig({ policy: { spamLevel: 'high', spamDestiny: 'D_DELETE', surprise: 1 }, mail: { allowedNetworks: ['10.0.0.0/8', 'nonsense'] }, extra: {} });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.match(text, /^policy\.spamLevel: must be a number \(got "high"\)$/m);
    assert.match(text, /^policy\.spamDestiny: must be one of D_PASS, D_BOUNCE, D_DISCARD \(got "D_DELETE"\)$/m);
    assert.match(text, /^policy\.surprise: unknown setting/m);
    assert.match(text, /^mail\.allowedNetworks: item 2: must be a network/m);
    assert.match(text, /^extra: unknown section/m);
  }
});

test('allowed networks accept host, subnet, a list, or a comma-separated string', () => {
  assert.deepEqual(parseConfig({ mail: { allowedNetworks: 'subnet' } }).mail.allowedNetworks, ['subnet']);
  assert.deepEqual(parseConfig({ mail: { allowedNetworks: '192.168.1.0/24, 10.0.0.5' } }).mail.allowedNetworks, ['192.168.1.0/24', '10.0.0.5']);
  assert.throws(() => parseConfig({ mail: { allowedNetworks: ['host', '10.0.0.0/8'] } }), /allowedNetworks: item 1/);
});

test('settings that depend on each other are checked together', () => {
  assert.throws(() => parseConfig({ directory: { enabled: true } }), /directory\.server: required when directory\.enabled/);
  assert.throws(() => parseConfig({ viewer: { loginMethod: 'ldap' } }), /needs directory\.enabled/);
  assert.throws(() => parseConfig({ viewer: { tlsCert: '/x.pem' } }), /give both or neither/);
});

test('a broken file names the file and the JSON error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'bad.json'), '{ "policy": ');
  assert.throws(
    () => loadConfig(join(dir, 'bad.json')),
    (err: Error) => err instanceof ConfigError && /bad\.json.*not valid JSON/s.test(err.message),
  );
  assert.throws(() => loadConfig(join(dir, 'missing.json')), /cannot read the file/);
});

test('the viewer’s HTTP redirect can be turned off with port 0, as its help says', () => {
  assert.equal(parseConfig({ viewer: { httpPort: 0 } }).viewer.httpPort, 0);
});
