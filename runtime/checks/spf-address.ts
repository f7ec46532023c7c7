// IP addresses as SPF compares and writes them (RFC 7208 5.6, 7.3): parsed once into bytes, matched
// against a network by prefix, written as %{i}, %{c} and a PTR name want them.
import { isIP } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

function ipv6Groups(text: string): number[] | null {
  let head = text;
  const tail: number[] = [];
  // An IPv4 address in the last 32 bits (::ffff:192.0.2.1).
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const four = dotted[1]!.split('.').map(Number);
    tail.push((four[0]! << 8) | four[1]!, (four[2]! << 8) | four[3]!);
    head = text.slice(0, -dotted[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const hex = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const gap = head.indexOf('::');
  if (gap < 0) return [...hex(head), ...tail];
  const before = hex(head.slice(0, gap));
  const after = [...hex(head.slice(gap + 2)), ...tail];
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/** The address in `text`, or null when it is not one (as node:net judges). */
export function parseIp(text: string): IpAddress | null {
  const family = isIP(text);
  if (family === 4) return { family, bytes: Uint8Array.from(text.split('.').map(Number)) };
  if (family !== 6) return null;
  const groups = ipv6Groups(text);
  if (!groups || groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((g, n) => {
    bytes[n * 2] = g >> 8;
    bytes[n * 2 + 1] = g & 0xff;
  });
  return { family, bytes };
}

/** Whether `address` lies in `network`/`prefix` (the whole address when prefix is null). */
export function inNetwork(address: IpAddress, network: IpAddress, prefix: number | null): boolean {
  if (address.family !== network.family) return false;
  const bits = prefix ?? address.bytes.length * 8;
  const whole = bits >> 3;
  for (let n = 0; n < whole; n++) if (address.bytes[n] !== network.bytes[n]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address.bytes[whole]! & mask) === (network.bytes[whole]! & mask);
}

const hexGroups = (address: IpAddress) => Array.from({ length: 8 }, (_, n) => ((address.bytes[n * 2]! << 8) | address.bytes[n * 2 + 1]!).toString(16));

/** The address as written for %{c}: dotted, or IPv6 compressed (RFC 5952: the longest run of two or more zero groups). */
export function ipText(address: IpAddress): string {
  if (address.family === 4) return address.bytes.join('.');
  const groups = hexGroups(address);
  let best = { at: -1, length: 1 };
  for (let n = 0; n < 8;) {
    if (groups[n] !== '0') {
      n++;
      continue;
    }
    let end = n;
    while (end < 8 && groups[end] === '0') end++;
    if (end - n > best.length) best = { at: n, length: end - n };
    n = end;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
}

const nibbles = (address: IpAddress) => Array.from(address.bytes).flatMap((b) => [(b >> 4).toString(16), (b & 15).toString(16)]);

/** %{i}: dotted for IPv4, dot-separated nibbles for IPv6 (RFC 7208 7.3). */
export const ipDotted = (address: IpAddress) => (address.family === 4 ? address.bytes.join('.') : nibbles(address).join('.'));

/** The name whose PTR records name the address. */
export const ptrName = (address: IpAddress) =>
  address.family === 4 ? `${Array.from(address.bytes).reverse().join('.')}.in-addr.arpa` : `${nibbles(address).reverse().join('.')}.ip6.arpa`;
