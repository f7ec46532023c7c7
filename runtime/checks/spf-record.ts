// An SPF record's text (RFC 7208 4.5, 12): picking the one record among a name's TXT records,
// telling mechanisms from modifiers, and splitting a mechanism into qualifier, name and value with
// its CIDR lengths. Errors are worded as mailauth words them, for the same comment.
import { isIPv6 } from 'node:net';
import { SpfProblem } from './spf-problem.js';

export type Qualifier = '+' | '-' | '~' | '?';

const MECHANISMS = new Set(['all', 'include', 'a', 'mx', 'ip4', 'ip6', 'exists', 'ptr']);

/** The terms of the one "v=spf1" record among `texts`; none when there is no such record. */
export function selectRecord(texts: Array<string[] | string>, domain: string): string[] {
  let found: string[] | null = null;
  for (const record of texts) {
    const text = Array.isArray(record) ? record.join('') : record;
    const terms = text.trim().split(/\s+/);
    if (terms[0]!.toLowerCase() !== 'v=spf1') continue;
    if (found) throw new SpfProblem('permerror', `multiple SPF records found for ${domain}`);
    found = terms.slice(1);
    if (/[^\x20-\x7E]/.test(text)) throw new SpfProblem('permerror', 'DNS response includes invalid characters');
  }
  if (!found) throw new SpfProblem('none', `no SPF records found for ${domain}`);
  return found;
}

export const isModifier = (term: string) => /^[^:/]+=/.test(term);

/** A term's mechanism name, as the first pass checks it (any qualifier dropped). */
export const mechanismName = (term: string) =>
  term
    .split(/[:/=]/)[0]!
    .toLowerCase()
    .replace(/^[?\-~+]/, '');

export const isKnownMechanism = (name: string) => MECHANISMS.has(name);

export interface Mechanism {
  qualifier: Qualifier;
  /** Lower-case: all, include, a, mx, ip4, ip6, exists, ptr. */
  type: string;
  /** What follows the ':' (or the '/' and after, when there is no ':'); '' when nothing does. */
  value: string;
}

export function parseMechanism(term: string): Mechanism {
  const colon = term.indexOf(':');
  if (colon === term.length - 1) throw new SpfProblem('permerror', 'unexpected empty value');
  let key = term;
  let value = '';
  if (colon >= 0) {
    key = term.slice(0, colon);
    value = term.slice(colon + 1);
  } else {
    const slash = term.indexOf('/');
    if (slash >= 0) {
      key = term.slice(0, slash);
      value = term.slice(slash);
    }
  }
  let qualifier: Qualifier = '+';
  if (/^[?\-~+]/.test(key)) {
    qualifier = key[0] as Qualifier;
    key = key.slice(1);
  }
  return { qualifier, type: key.toLowerCase(), value };
}

export interface Target {
  /** The domain-spec or address before the CIDR lengths ('' when none was given). */
  target: string;
  cidr4: number | null;
  cidr6: number | null;
}

/** A mechanism value's target and dual CIDR lengths (RFC 7208 5.6): "name/24//64". */
export function splitCidr(value: string, type: string): Target {
  if (!value) return { target: '', cidr4: null, cidr6: null };
  const [, target = '', four, six] = /^(.*?)(\/\d+)?(\/\/\d+)?$/.exec(value)!;
  if (/^\/0+[1-9]/.test(four ?? '') || /^\/\/0+[1-9]/.test(six ?? '')) throw new SpfProblem('permerror', `invalid address definition: ${value}`);
  let cidr4 = four ? Number(four.slice(1)) : null;
  let cidr6 = six ? Number(six.slice(2)) : null;
  // An ip6 network has one length, written with a single slash.
  if (type === 'ip6' && cidr4 !== null && cidr6 === null) [cidr4, cidr6] = [null, cidr4];
  // Case is kept: an upper-case macro letter means URL-escaping (RFC 7208 7.3).
  const name = target.trim();
  if ((cidr4 !== null && cidr4 > 32 && !isIPv6(name)) || (cidr6 !== null && cidr6 > 128))
    throw new SpfProblem('permerror', `invalid cidr definition: ${value}`);
  return { target: name, cidr4, cidr6 };
}
