// Golden files: the Postfix config rendered from the manual's example answers. After an intended
// template change, regenerate with UPDATE_GOLDEN=1 and read the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseConfig } from '../../../runtime/config/load.js';
import { renderAll } from '../../../runtime/render/render.js';
import { mynetworks, subnetOf } from '../../../runtime/render/template-values.js';

const GOLDEN = 'test/fixtures/golden';

// The manual's example: SMTP mode this time, company.com outside and company.local inside.
const manualExample = parseConfig({
  network: { hostname: 'fetcher.company.local', address: '192.168.100.2', netmask: '255.255.255.0', gateway: '192.168.100.1', dns1: '192.168.100.1' },
  mail: { mode: 'smtp', externalDomain: 'company.com', internalDomain: 'company.local', finalServer: 'mail.company.local', allowedNetworks: 'subnet' },
});

test('Postfix config matches the golden files', () => {
  for (const file of renderAll(manualExample)) {
    const golden = join(GOLDEN, file.template.replace(/\.in$/, ''));
    if (process.env.UPDATE_GOLDEN) {
      mkdirSync(dirname(golden), { recursive: true });
      writeFileSync(golden, file.content);
    }
    assert.equal(file.content, readFileSync(golden, 'utf8'), `${file.template} differs from ${golden}`);
  }
});

test('the rendered Postfix config is never an open relay and always filters', () => {
  const main = renderAll(manualExample).find((f) => f.template === 'postfix/main.cf.in')!.content;
  assert.match(main, /^smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination$/m);
  assert.match(main, /^content_filter = scan:\[127\.0\.0\.1\]:10024$/m);
  assert.match(main, /^mydestination =$/m);
  assert.match(main, /^relay_domains = company\.com, company\.local$/m);
});

test('allowed networks: host, subnet, or a list', () => {
  assert.equal(subnetOf('192.168.100.2', '255.255.255.0'), '192.168.100.0/24');
  assert.equal(subnetOf('10.1.2.3', '255.255.240.0'), '10.1.0.0/20');
  const net = (allowedNetworks: string) =>
    mynetworks(parseConfig({ network: { address: '192.168.100.2', netmask: '255.255.255.0' }, mail: { allowedNetworks } }));
  assert.equal(net('host'), '127.0.0.1/32 192.168.100.2/32');
  assert.equal(net('subnet'), '127.0.0.1/32 192.168.100.0/24');
  assert.equal(net('10.0.0.0/8, 172.16.0.0/12'), '127.0.0.1/32 10.0.0.0/8 172.16.0.0/12');
});

test('SpamAssassin learns into the shared PostgreSQL when storage is postgresql, with TLS verified', () => {
  const shared = (url: string) =>
    renderAll(parseConfig({ storage: { backend: 'postgresql', url, caFile: '/etc/mailfilter/db-ca.pem' } })).find(
      (f) => f.template === 'spamassassin/shared-bayes.cf.in',
    )!;
  const file = shared('postgresql://mf:s3cret@db.company.local:5433/cluster');
  assert.equal(file.mode, 0o600, 'it holds the password');
  assert.match(file.content, /^bayes_store_module Mail::SpamAssassin::BayesStore::PgSQL$/m);
  assert.match(
    file.content,
    /^bayes_sql_dsn DBI:Pg:dbname=cluster;host=db\.company\.local;port=5433;sslmode=verify-full;sslrootcert=\/etc\/mailfilter\/db-ca\.pem$/m,
  );
  assert.match(file.content, /^bayes_sql_username mf$/m);
  assert.match(file.content, /^bayes_sql_password s3cret$/m);
  assert.match(file.content, /^bayes_sql_override_username mailfilter$/m);
  assert.throws(() => parseConfig({ storage: { url: 'postgresql://mf:a%0Abayes_path%20x@db/cluster' } }), /control characters/);
});
