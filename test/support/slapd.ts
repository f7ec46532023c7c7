// A real OpenLDAP slapd standing in for Active Directory: an AD-like schema (proxyAddresses,
// userPrincipalName, sAMAccountName), LDAPS and StartTLS from a test CA, and a size limit of 100
// so that only paged searches see a whole OU of a few hundred users.
import { execFileSync } from 'node:child_process';
import { spawnServer } from '../../runtime/local/servers.js';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, listening } from './net.js';
import { makeTestCerts, type TestCerts } from './tls.js';
import type { AppConfig } from '../../runtime/config/schema.js';

export interface Slapd {
  ldapPort: number;
  ldapsPort: number;
  stop(): Promise<void>;
}

const AD_SCHEMA = `
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.210 NAME 'proxyAddresses' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP inetOrgPerson STRUCTURAL MAY ( userPrincipalName $ sAMAccountName $ proxyAddresses ) )
objectclass ( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL MUST cn MAY ( mail $ proxyAddresses $ member $ sAMAccountName $ description ) )
`;

export async function startSlapd(dir: string, certs: TestCerts, ldif: string): Promise<Slapd> {
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(join(dir, 'ad.schema'), AD_SCHEMA);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    `
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include ${dir}/ad.schema
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile ${certs.caCert}
TLSCertificateFile ${certs.serverCert}
TLSCertificateKeyFile ${certs.serverKey}
database mdb
maxsize 104857600
suffix "dc=company,dc=local"
rootdn "cn=admin,dc=company,dc=local"
rootpw admin-secret
directory ${dir}/db
index objectClass eq
index mail,userPrincipalName,sAMAccountName eq
limits * size.soft=100 size.hard=100 size.pr=100 size.prtotal=unlimited
access to attrs=userPassword by anonymous auth by self read by * none
access to * by users read by * none
`,
  );
  writeFileSync(join(dir, 'data.ldif'), ldif);
  execFileSync('slapadd', ['-q', '-f', conf, '-l', join(dir, 'data.ldif')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const [ldapPort, ldapsPort] = [await freePort(), await freePort()];
  const server = spawnServer('slapd', 'slapd', ['-f', conf, '-h', `ldap://127.0.0.1:${ldapPort}/ ldaps://127.0.0.1:${ldapsPort}/`, '-d', '0'], {
    logFile: join(dir, 'slapd.log'),
  });
  try {
    await server.ready('slapd to listen', () => listening(ldapPort), 30_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    ldapPort,
    ldapsPort,
    stop: () => server.stop(),
  };
}

/** An Active Directory-like tree: OU=MyBusiness with `count` users and a group, plus an OU outside the base. */
export function adLikeTree(count: number): string {
  const entries = [
    'dn: dc=company,dc=local\nobjectClass: dcObject\nobjectClass: organization\ndc: company\no: Company',
    'dn: ou=MyBusiness,dc=company,dc=local\nobjectClass: organizationalUnit\nou: MyBusiness',
    'dn: ou=Other,dc=company,dc=local\nobjectClass: organizationalUnit\nou: Other',
    'dn: cn=sync,ou=MyBusiness,dc=company,dc=local\nobjectClass: user\ncn: sync\nsn: sync\nuserPassword: sync-secret\nsAMAccountName: sync',
    'dn: cn=Sales,ou=MyBusiness,dc=company,dc=local\nobjectClass: group\ncn: Sales\nmail: sales@company.com\nproxyAddresses: SMTP:sales@company.com\nproxyAddresses: smtp:vertrieb@company.com',
    'dn: cn=Outsider,ou=Other,dc=company,dc=local\nobjectClass: user\ncn: Outsider\nsn: O\nmail: outsider@company.com',
  ];
  for (let i = 1; i <= count; i++) {
    entries.push(
      [
        `dn: cn=User ${i},ou=MyBusiness,dc=company,dc=local`,
        'objectClass: user',
        `cn: User ${i}`,
        `sn: ${i}`,
        `mail: user${i}@company.com`,
        `proxyAddresses: SMTP:user${i}@company.com`,
        `proxyAddresses: smtp:user${i}@company.local`,
        `proxyAddresses: X400:c=US;a= ;p=Company;o=Exchange;s=User${i};`,
        `userPrincipalName: user${i}@company.local`,
        `sAMAccountName: user${i}`,
        `userPassword: password-${i}`,
      ].join('\n'),
    );
  }
  return entries.join('\n\n') + '\n';
}

export interface TestDirectory {
  /** A fresh folder, searchable by other users (Postfix's and slapd's own). */
  dir: string;
  certs: TestCerts;
  slapd: Slapd;
  /** The directory settings that reach this slapd as the sync user, over TLS from the test CA. */
  settings: Partial<AppConfig['directory']>;
}

/** A slapd holding this tree, with a test CA's certificates, in a folder of its own. */
export async function startTestDirectory(prefix: string, ldif: string): Promise<TestDirectory> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const certs = makeTestCerts(join(dir, 'certs'));
  const slapd = await startSlapd(join(dir, 'slapd'), certs, ldif);
  const settings = {
    enabled: true,
    server: '127.0.0.1',
    ldapPort: slapd.ldapPort,
    ldapsPort: slapd.ldapsPort,
    caFile: certs.caCert,
    bindUser: 'cn=sync,ou=MyBusiness,dc=company,dc=local',
    bindPassword: 'sync-secret',
    baseDn: 'ou=MyBusiness,dc=company,dc=local',
  };
  return { dir, certs, slapd, settings };
}
