// Our Authentication-Results header (RFC 8601) read back from a held message, for the viewer's
// message page: the filter puts it on top of the quarantined copy (filter/held-copy.ts).
import { open } from 'node:fs/promises';
import type { AppConfig } from '../config/schema.js';

export const AUTH_METHODS = ['spf', 'dkim', 'dmarc', 'arc'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export type AuthRows = Record<AuthMethod, string[]>;

export function authservIdOf(config: AppConfig): string {
  return config.auth.authservId || config.network.hostname;
}

/** Splits at the semicolons between results, not those inside (comments). */
function results(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of value) {
    if (c === '(') depth += 1;
    if (c === ')') depth = Math.max(0, depth - 1);
    if (c === ';' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += c;
  }
  parts.push(current.trim());
  return parts.filter(Boolean);
}

/** The authserv-id an Authentication-Results value starts with (RFC 8601), comments left out. */
export function authservIdIn(value: string): string {
  return value
    .replace(/\([^)]*\)/g, ' ')
    .split(';')[0]!
    .trim()
    .split(/\s+/)[0]!
    .toLowerCase();
}

/** The rows of the first Authentication-Results in `head` with our authserv-id; null when there is none. */
export function parseAuthResults(head: string, authservId: string): AuthRows | null {
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const match = /^authentication-results:(.*)$/i.exec(line);
    if (!match) continue;
    if (authservIdIn(match[1]!) !== authservId.toLowerCase()) continue;
    const [, ...rest] = results(match[1]!);
    const rows: AuthRows = { spf: [], dkim: [], dmarc: [], arc: [] };
    for (const result of rest) {
      const method = result.split('=')[0]!.trim().toLowerCase() as AuthMethod;
      if (AUTH_METHODS.includes(method)) rows[method].push(result.slice(method.length + 1).trim());
    }
    return rows;
  }
  return null;
}

/** Reads only the start of the file: our header is the first line. */
export async function readAuthResults(path: string, authservId: string): Promise<AuthRows | null> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(16384), position: 0 });
    const text = buffer.subarray(0, bytesRead).toString('latin1');
    const end = text.search(/\r?\n\r?\n/);
    return parseAuthResults(end >= 0 ? text.slice(0, end) : text, authservId);
  } finally {
    await handle.close();
  }
}
