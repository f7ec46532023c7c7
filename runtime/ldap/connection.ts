// Connecting to the directory (Active Directory, or any LDAP server): LDAPS first, then StartTLS,
// then plain LDAP only when LDAP_ALLOW_INSECURE is true. A failure says what was tried and why,
// where the 2006 appliance printed "Can't contact LDAP server".
import { Client } from 'ldapts';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { AppConfig } from '../config/schema.js';
import { oneLine } from '../text/one-line.js';

export type DirectoryConfig = AppConfig['directory'];

export class DirectoryError extends Error {
  constructor(
    message: string,
    readonly attempts: string[] = [],
    readonly badCredentials = false,
  ) {
    super(attempts.length ? `${message}:\n  ${attempts.join('\n  ')}` : message);
    this.name = 'DirectoryError';
  }
}

function tlsOptions(config: DirectoryConfig): ConnectionOptions {
  return { servername: config.server, rejectUnauthorized: true, ...(config.caFile ? { ca: readFileSync(config.caFile) } : {}) };
}

function describe(err: unknown): string {
  const error = err as Error & { code?: string | number };
  if (/InvalidCredentials/i.test(error.name ?? '') || error.code === 49) return 'the user name or password was refused (invalid credentials)';
  // ldapts reports a refused StartTLS certificate only as a dropped connection.
  if (/before secure TLS connection was established/i.test(error.message))
    return 'the TLS handshake failed (is the server certificate trusted? see directory.caFile)';
  const message = oneLine(error.message, 200);
  return /certificate/i.test(message) ? `${message} (set directory.caFile to the CA that signed the server's certificate)` : message;
}

/** A client bound as `bindUser`, over the most secure transport that works. */
export async function connectDirectory(config: DirectoryConfig, bindUser = config.bindUser, password = config.bindPassword): Promise<Client> {
  const timeout = config.timeoutSeconds * 1000;
  const attempts: string[] = [];
  const tries: Array<{ label: string; url: string; tls: 'implicit' | 'starttls' | 'none' }> = [
    { label: 'LDAPS', url: `ldaps://${config.server}:${config.ldapsPort}`, tls: 'implicit' },
    { label: 'StartTLS', url: `ldap://${config.server}:${config.ldapPort}`, tls: 'starttls' },
  ];
  if (config.allowInsecure) tries.push({ label: 'plain LDAP', url: `ldap://${config.server}:${config.ldapPort}`, tls: 'none' });
  for (const attempt of tries) {
    const client = new Client({
      url: attempt.url,
      timeout,
      connectTimeout: timeout,
      ...(attempt.tls === 'implicit' ? { tlsOptions: tlsOptions(config) } : {}),
    });
    try {
      if (attempt.tls === 'starttls') await client.startTLS(tlsOptions(config));
      await client.bind(bindUser, password);
      return client;
    } catch (err) {
      await client.unbind().catch(() => undefined);
      const reason = describe(err);
      // A refused password is the same on every transport: trying plain LDAP would only leak it.
      if (reason.startsWith('the user name or password')) throw new DirectoryError(`Binding to ${config.server} as ${bindUser} failed: ${reason}`, [], true);
      attempts.push(`${attempt.label} (${attempt.url}): ${reason}`);
    }
  }
  if (!config.allowInsecure) attempts.push('plain LDAP: not tried, LDAP_ALLOW_INSECURE (directory.allowInsecure) is false');
  throw new DirectoryError(`Cannot reach the directory server ${config.server}`, attempts);
}

/** RFC 4515: a value placed in a search filter. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
