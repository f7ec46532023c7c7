// A throwaway CA and a server certificate for localhost/127.0.0.1, made with openssl, so tests
// can keep certificate verification on.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

export function makeTestCerts(dir: string, names: string[] = ['localhost']): TestCerts {
  mkdirSync(dir, { recursive: true });
  const path = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=mailfilter test CA',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${names[0]}`, '-keyout', path('server.key'), '-out', path('server.csr'));
  writeFileSync(path('ext.cnf'), `subjectAltName=${[...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',')}\nextendedKeyUsage=serverAuth\n`);
  ssl(
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.crt'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    path('ext.cnf'),
    '-out',
    path('server.crt'),
  );
  return { caCert: path('ca.crt'), serverCert: path('server.crt'), serverKey: path('server.key') };
}
