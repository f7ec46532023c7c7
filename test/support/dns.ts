// A real DNS server for tests: Debian's unbound answering from local data only (DNSBL and DNSWL
// zones, MX/A/TXT records of test domains); every other name is NXDOMAIN, so no test depends on
// this machine's resolver or the Internet. It listens on port 53 of a loopback address of its own
// (127.53.x.y), because Postfix's resolver reads only /etc/resolv.conf, which cannot name a port:
// `resolvConf` names this server, for a mount namespace (startPostfix's `resolvConf` option).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { spawnServer, type Server } from '../../runtime/local/servers.js';

export interface DnsRecord {
  /** Owner name without the final dot: 2.0.0.127.bl.test */
  name: string;
  type: 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR' | 'CNAME' | 'NS';
  /** As in a zone file ("10 mx.example.net" for MX); TXT is the text itself, unquoted, any length. */
  data: string;
}

export interface DnsServer extends Server {
  address: string;
  /** A resolv.conf naming only this server. */
  resolvConf: string;
  /** A node resolver asking only this server. */
  resolver(): Resolver;
}

/** The records that list `clientAddress` in a DNSBL/DNSWL zone: A (the list's code) and TXT (its reason). */
export function listedIn(zone: string, clientAddress: string, options: { code?: string; reason?: string } = {}): DnsRecord[] {
  const name = `${clientAddress.split('.').reverse().join('.')}.${zone}`;
  return [
    { name, type: 'A', data: options.code ?? '127.0.0.2' },
    { name, type: 'TXT', data: options.reason ?? `${clientAddress} is listed in ${zone}` },
  ];
}

/** TXT data as unbound wants it: quoted strings of at most 255 characters each (DKIM keys are longer). */
function txtData(text: string): string {
  const pieces = text.match(/[\s\S]{1,255}/g) ?? [''];
  return pieces.map((piece) => `"${piece.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(' ');
}

function localData(record: DnsRecord): string {
  // unbound's config quotes the record in single quotes: none inside, and no line breaks.
  if (/['\r\n]/.test(record.name + record.data)) throw new Error(`DNS record not representable in unbound.conf: ${JSON.stringify(record)}`);
  const data = record.type === 'TXT' ? txtData(record.data) : record.data;
  return `  local-data: '${record.name}. 60 IN ${record.type} ${data}'`;
}

const PROBE_NAME = 'dns-server-ready.test';

/** An unbound on one loopback address, in the foreground, started by root: no privilege drop, no chroot, nothing outside `dir`. */
export function unboundServerLines(dir: string, address: string): string[] {
  return [
    'server:',
    `  interface: ${address}`,
    '  port: 53',
    '  do-ip6: no',
    '  do-daemonize: no',
    '  num-threads: 1',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 1',
    '  access-control: 127.0.0.0/8 allow',
    '  module-config: "iterator"',
  ];
}

function unboundConf(dir: string, address: string, records: DnsRecord[]): string {
  return [
    ...unboundServerLines(dir, address),
    // Authoritative for everything: names without local data are NXDOMAIN, never looked up outside.
    '  local-zone: "." static',
    ...[{ name: PROBE_NAME, type: 'A' as const, data: '127.0.0.1' }, ...records].map(localData),
    'remote-control:',
    '  control-enable: no',
    '',
  ].join('\n');
}

function randomLoopback(): string {
  const byte = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
  return `127.53.${byte(0, 255)}.${byte(1, 254)}`;
}

async function startOnce(dir: string, address: string, records: DnsRecord[]): Promise<DnsServer> {
  const confFile = join(dir, 'unbound.conf');
  writeFileSync(confFile, unboundConf(dir, address, records));
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `# the tests' DNS server (${confFile})\nnameserver ${address}\noptions timeout:2 attempts:2\n`);
  const resolver = () => {
    const r = new Resolver({ timeout: 1000, tries: 2 });
    r.setServers([address]);
    return r;
  };
  const server = spawnServer(`DNS server (unbound on ${address}:53)`, 'unbound', ['-d', '-c', confFile], { logFile: join(dir, 'unbound.log') });
  try {
    await server.ready('an answer', async () => (await resolver().resolve4(PROBE_NAME)).includes('127.0.0.1'), 15_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { name: server.name, stop: () => server.stop(), address, resolvConf, resolver };
}

/** Starts the server in `dir` with these records; another run's server on the chosen address makes it pick again. */
export async function startDns(dir: string, records: DnsRecord[]): Promise<DnsServer> {
  mkdirSync(dir, { recursive: true });
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(dir, randomLoopback(), records);
    } catch (err) {
      lastError = err as Error;
      if (!/bind|address already in use/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError!;
}
