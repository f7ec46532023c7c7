// A real PostgreSQL 15 (Debian's) on loopback for the cluster tests: initdb in a folder of the
// test's, TLS from the test CA, and only TLS connections with a password accepted (hostssl), as a
// site's shared database would be set up. PostgreSQL refuses to run as root: it runs as the
// package's `postgres` user, exec'd through setpriv so that stopping the process group stops it.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, type Server } from '../../runtime/local/servers.js';
import { freePort } from './net.js';
import type { TestCerts } from './tls.js';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

export interface TestPostgres extends Server {
  port: number;
  /** A connection string for the `mailfilter` role and database, TLS required. */
  url: string;
  /** The CA that signed the server's certificate (for `storage.caFile`). */
  caFile: string;
  /** Stops the server as an outage would (its connections are cut), keeping its data. */
  halt(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  resume(): Promise<void>;
}

const USER = 'mailfilter';
const PASSWORD = 'cluster-secret';

/**
 * Starts the server in a folder of its own in the system's temporary folder (the server's user must
 * reach it, and a test's own folder is root's alone), removed again when it stops.
 */
export async function startPostgres(certs: TestCerts): Promise<TestPostgres> {
  const owner = ids('postgres');
  const dir = mkdtempSync(join(tmpdir(), 'mailfilter-postgres-'));
  const data = join(dir, 'data');
  chownSync(dir, owner.uid, owner.gid);
  const asPostgres = ['--reuid=postgres', '--regid=postgres', '--init-groups'];
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${PASSWORD}\n`);
  chownSync(pwfile, owner.uid, owner.gid);
  execFileSync(
    'setpriv',
    [...asPostgres, join(POSTGRES_BIN, 'initdb'), '-D', data, '-U', USER, '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-instructions'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  // The server reads its key only when it is the owner's alone.
  for (const [from, name] of [
    [certs.serverCert, 'server.crt'],
    [certs.serverKey, 'server.key'],
  ] as const) {
    copyFileSync(from, join(data, name));
    chownSync(join(data, name), owner.uid, owner.gid);
    chmodSync(join(data, name), 0o600);
  }
  const port = await freePort();
  // Over TCP only TLS; the socket in the server's own folder is for the set-up below.
  writeFileSync(join(data, 'pg_hba.conf'), 'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
  const run = () =>
    spawnServer(
      'PostgreSQL',
      'setpriv',
      [
        ...asPostgres,
        join(POSTGRES_BIN, 'postgres'),
        '-D',
        data,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `port=${port}`,
        '-c',
        `unix_socket_directories=${dir}`,
        '-c',
        'ssl=on',
        '-c',
        'ssl_min_protocol_version=TLSv1.2',
        '-c',
        'max_connections=60',
        '-c',
        'shared_buffers=32MB',
      ],
      { logFile: join(dir, 'postgres.log') },
    );
  let server = run();
  try {
    await server.ready('PostgreSQL to accept connections', () => accepting(port), 60_000);
    execFileSync('setpriv', [...asPostgres, join(POSTGRES_BIN, 'createdb'), '-h', dir, '-p', String(port), '-U', USER, USER], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PGPASSWORD: PASSWORD },
    });
  } catch (err) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let running = true;
  // A fast shutdown, as `systemctl stop postgresql` does: clients are cut off at once (a smart
  // shutdown, SIGTERM, would wait for every node's pool to disconnect).
  const shutDown = async () => {
    server.child.kill('SIGINT');
    await server.stop();
  };
  return {
    name: 'PostgreSQL',
    port,
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${USER}`,
    caFile: certs.caCert,
    async halt() {
      running = false;
      await shutDown();
    },
    async resume() {
      if (running) return;
      server = run();
      running = true;
      await server.ready('PostgreSQL to accept connections again', () => accepting(port), 60_000);
    },
    async stop() {
      await shutDown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The port opens while the server still replays its log ("the database system is starting up"):
 * pg_isready answers yes only once a connection would be accepted.
 */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => execFile(join(POSTGRES_BIN, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], (err) => resolve(!err)));
}

function ids(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
