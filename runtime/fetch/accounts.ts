// The fetch accounts file (the role of fetchmail.cf): servers, and per server the mailboxes to poll.
// An admin edits it directly for many users; it is validated as a whole, every problem named.
//
// { "servers": [ { "host": "mail.company.com", "protocol": "pop3", "tls": "implicit",
//     "accounts": [ { "user": "user_one@company.com", "password": "…", "deliverTo": "user_one@company.local" } ] } ] }
import { readFileSync } from 'node:fs';
import { bool, hostOrAddress, oneOf, port, text, type Field } from '../config/fields.js';
import { ConfigError } from '../config/load.js';
import type { TlsMode } from './pop3.js';
import { EMAIL_ADDRESS } from '../mail/address.js';

export interface FetchServer {
  host: string;
  protocol: 'pop3' | 'imap';
  port: number;
  tls: TlsMode;
  /** Plain, unencrypted connections must be asked for explicitly. */
  allowPlaintext: boolean;
  verifyCertificate: boolean;
  caFile: string;
  accounts: FetchAccount[];
}

export interface FetchAccount {
  user: string;
  password: string;
  deliverTo: string;
  keep: boolean;
  folder: string;
}

const DEFAULT_PORTS: Record<string, Record<TlsMode, number>> = {
  pop3: { implicit: 995, starttls: 110, none: 110 },
  imap: { implicit: 993, starttls: 143, none: 143 },
};

const serverFields = {
  host: hostOrAddress('', 'server to poll'),
  protocol: oneOf(['pop3', 'imap'] as const, 'pop3', 'protocol'),
  tls: oneOf(['implicit', 'starttls', 'none'] as const, 'implicit', 'TLS mode'),
  allowPlaintext: bool(false, 'allow tls "none"'),
  verifyCertificate: bool(true, 'verify the server certificate'),
  caFile: text('', 'CA file for the server certificate'),
};
const accountFields = {
  user: text('', 'user name on the server', { allowEmpty: false, pattern: /^\S+$/, what: 'a user name without spaces' }),
  password: text('', 'password'),
  deliverTo: text('', 'local address', { pattern: EMAIL_ADDRESS, what: 'an e-mail address like user@company.local' }),
  folder: text('INBOX', 'IMAP folder'),
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readFields<F extends Record<string, Field<unknown>>>(raw: Record<string, unknown>, fields: F, path: string, problems: string[], extra: string[] = []) {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) if (!(key in fields) && !extra.includes(key)) problems.push(`${path}.${key}: unknown setting`);
  for (const [key, spec] of Object.entries(fields)) {
    try {
      out[key] = raw[key] === undefined ? spec.default : spec.parse(raw[key]);
    } catch (err) {
      problems.push(`${path}.${key}: ${(err as Error).message}`);
    }
  }
  return out as { [K in keyof F]: F[K] extends Field<infer T> ? T : never };
}

export function parseAccounts(raw: unknown, defaultKeep: boolean, source = 'accounts'): FetchServer[] {
  const problems: string[] = [];
  if (!isObject(raw) || !Array.isArray(raw.servers)) throw new ConfigError(source, ['must be an object with a "servers" list']);
  const servers = raw.servers.map((server, s): FetchServer | null => {
    const path = `servers[${s}]`;
    if (!isObject(server)) {
      problems.push(`${path}: must be an object`);
      return null;
    }
    const base = readFields(server, serverFields, path, problems, ['port', 'accounts']);
    if (base.host === '') problems.push(`${path}.host: required`);
    if (base.tls === 'none' && !base.allowPlaintext) problems.push(`${path}.tls: "none" sends passwords in clear text; set allowPlaintext: true to allow it`);
    let serverPort = DEFAULT_PORTS[base.protocol]?.[base.tls] ?? 0;
    if (server.port !== undefined) {
      try {
        serverPort = port(serverPort, 'port').parse(server.port);
      } catch (err) {
        problems.push(`${path}.port: ${(err as Error).message}`);
      }
    }
    const accounts = Array.isArray(server.accounts) ? server.accounts : [];
    if (accounts.length === 0) problems.push(`${path}.accounts: must list at least one account`);
    return {
      ...base,
      port: serverPort,
      accounts: accounts.map((account, a) => {
        const accountPath = `${path}.accounts[${a}]`;
        if (!isObject(account)) {
          problems.push(`${accountPath}: must be an object`);
          return { user: '', password: '', deliverTo: '', keep: defaultKeep, folder: 'INBOX' };
        }
        const fields = readFields(account, accountFields, accountPath, problems, ['keep']);
        let keep = defaultKeep;
        if (account.keep !== undefined) {
          try {
            keep = bool(defaultKeep, 'keep').parse(account.keep);
          } catch (err) {
            problems.push(`${accountPath}.keep: ${(err as Error).message}`);
          }
        }
        if (fields.deliverTo === '') problems.push(`${accountPath}.deliverTo: required`);
        return { ...fields, keep };
      }),
    };
  });
  if (problems.length > 0) throw new ConfigError(source, problems);
  return servers as FetchServer[];
}

export function loadAccounts(path: string, defaultKeep: boolean): FetchServer[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, [`cannot read the accounts file: ${(err as Error).message}`]);
  }
  return parseAccounts(raw, defaultKeep, path);
}

/** One name per mailbox, for logs and the seen-state. */
export function accountKey(server: FetchServer, account: FetchAccount): string {
  return `${server.protocol}://${account.user}@${server.host}:${server.port}${server.protocol === 'imap' ? `/${account.folder}` : ''}`;
}
