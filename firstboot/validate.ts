// Input checks for the wizard, run as the admin types: each returns an error in plain words, or null.
import { DOMAIN_RE, HOSTNAME_RE, isCidr, isIPv4 } from '../runtime/config/fields.js';
import { isEmailAddress } from '../runtime/mail/address.js';
import { ipv4ToInt } from '../runtime/net/ipv4.js';

export type Check = (value: string) => string | null;

export const required =
  (what: string): Check =>
  (v) =>
    v.trim() === '' ? `Enter ${what}.` : null;

export const fqdn: Check = (v) => (HOSTNAME_RE.test(v) && v.includes('.') ? null : 'Enter a fully qualified name with a domain, like mailfilter.company.com.');

export const ipv4: Check = (v) => (isIPv4(v) ? null : 'Enter an IPv4 address like 192.168.100.10.');

export const optionalIpv4: Check = (v) => (v === '' ? null : ipv4(v));

/** An address a host can have: not "any" (0.x), loopback, multicast or broadcast. */
export const hostAddress: Check = (v) => {
  if (!isIPv4(v)) return ipv4(v);
  const first = Number(v.split('.')[0]);
  if (first === 0) return `${v} means "any address", not this appliance's own: enter the address it is reached at.`;
  if (first === 127) return `${v} is loopback, reachable only from the appliance itself: enter its address on your network.`;
  if (first >= 224) return `${v} is a multicast or broadcast address: enter the appliance's own address.`;
  return null;
};

export const netmask: Check = (v) => {
  if (!isIPv4(v)) return 'Enter a subnet mask like 255.255.255.0.';
  const bits = v
    .split('.')
    .map((o) => Number(o).toString(2).padStart(8, '0'))
    .join('');
  return /^1+0*$/.test(bits) ? null : 'That is not a subnet mask: its ones must come first (like 255.255.255.0).';
};

export function inSubnet(address: string, other: string, mask: string): boolean {
  const m = ipv4ToInt(mask);
  return (ipv4ToInt(address) & m) >>> 0 === (ipv4ToInt(other) & m) >>> 0;
}

export const domain: Check = (v) => (DOMAIN_RE.test(v) ? null : 'Enter a domain like company.com.');

export const hostOrIp: Check = (v) => (HOSTNAME_RE.test(v) || isIPv4(v) ? null : 'Enter a host name like mail.company.local or an IP address.');

export const domainList: Check = (v) => {
  const items = splitList(v);
  if (items.length === 0) return 'Enter at least one domain.';
  const bad = items.find((d) => !DOMAIN_RE.test(d));
  return bad ? `"${bad}" is not a domain.` : null;
};

export const networks: Check = (v) => {
  const items = splitList(v);
  if (items.length === 1 && (items[0] === 'host' || items[0] === 'subnet')) return null;
  if (items.length === 0) return "Enter 'host', 'subnet', or networks like 192.168.100.0/24.";
  const bad = items.find((n) => !isCidr(n));
  return bad ? `"${bad}" is not a network; write it like 192.168.100.0/24.` : null;
};

/** Networks wider than this let a large part of the Internet relay through the appliance. */
export const WIDEST_QUIET_PREFIX = 16;
export const UNDERSTOOD = 'yes, I understand';

/** The networks among these that are wider than a /16 (0.0.0.0/0 included). */
export function wideNetworks(cidrs: string[]): string[] {
  return cidrs.filter((n) => {
    if (!isCidr(n)) return false;
    const [address = '', bits] = n.split('/');
    // The same share of the address space in IPv6 terms: a /48 is one organisation's allocation.
    return isIPv4(address) ? Number(bits ?? 32) < WIDEST_QUIET_PREFIX : Number(bits ?? 128) < 48;
  });
}

export const yesNo: Check = (v) => (/^(y|yes|n|no)$/i.test(v) ? null : 'Answer yes or no.');

export const oneOfWords =
  (words: readonly string[]): Check =>
  (v) =>
    words.some((w) => w.toLowerCase() === v.toLowerCase()) ? null : `Answer one of: ${words.join(', ')}.`;

export const number =
  (min: number, max: number, integer = false): Check =>
  (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) return 'Enter a number.';
    if (integer && !Number.isInteger(n)) return 'Enter a whole number.';
    return n < min || n > max ? `Enter a number from ${min} to ${max}.` : null;
  };

const RDN = /^[A-Za-z][A-Za-z0-9-]*=(?:[^,+"\\<>;=]|\\.)+$/;

export const distinguishedName: Check = (v) => {
  const parts = v.split(/(?<!\\),/).map((p) => p.trim());
  return parts.length > 0 && parts.every((p) => RDN.test(p)) ? null : 'Enter a DN like OU=MyBusiness,DC=company,DC=local.';
};

export const dnOrUserAtDomain: Check = (v) =>
  isEmailAddress(v) || distinguishedName(v) === null ? null : 'Enter an LDAP DN or user@domain (like sync@company.local).';

export function splitList(v: string): string[] {
  return v
    .split(/[,\s]+/)
    .map((s) => s.trim().replace(/^'|'$/g, ''))
    .filter(Boolean);
}

export function isYes(v: string): boolean {
  return /^y(es)?$/i.test(v.trim());
}
