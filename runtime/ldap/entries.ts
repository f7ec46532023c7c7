// Mail-enabled directory entries and their SMTP addresses: `mail` and every `proxyAddresses`
// value with an SMTP:/smtp: prefix (X400:, SIP: and the like are not mail addresses).
import type { Client, Entry } from 'ldapts';

export interface DirectoryEntry {
  dn: string;
  /** userPrincipalName, else sAMAccountName, else the first address: the viewer's user name. */
  loginName: string;
  isPerson: boolean;
  addresses: string[];
}

const ATTRIBUTES = ['mail', 'proxyAddresses', 'userPrincipalName', 'sAMAccountName', 'objectClass'];
export const MAIL_ENABLED_FILTER = '(|(mail=*)(proxyAddresses=smtp:*))';

function values(entry: Entry, name: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key ? entry[key] : undefined;
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

export function toDirectoryEntry(entry: Entry): DirectoryEntry {
  const addresses = new Set<string>();
  for (const mail of values(entry, 'mail')) if (mail.includes('@')) addresses.add(mail.trim().toLowerCase());
  for (const proxy of values(entry, 'proxyAddresses')) {
    const match = /^smtp:(.+@.+)$/i.exec(proxy.trim());
    if (match) addresses.add(match[1]!.toLowerCase());
  }
  const classes = values(entry, 'objectClass').map((c) => c.toLowerCase());
  const list = [...addresses].sort();
  return {
    dn: entry.dn,
    loginName: (values(entry, 'userPrincipalName')[0] ?? values(entry, 'sAMAccountName')[0] ?? list[0] ?? entry.dn).toLowerCase(),
    isPerson: classes.some((c) => ['user', 'person', 'inetorgperson'].includes(c)) && !classes.includes('group'),
    addresses: list,
  };
}

/** Every mail-enabled entry under the base DN, read in pages so large directories work. */
export async function searchMailEnabled(client: Client, baseDn: string, filter = MAIL_ENABLED_FILTER): Promise<DirectoryEntry[]> {
  const { searchEntries } = await client.search(baseDn, { scope: 'sub', filter, attributes: ATTRIBUTES, paged: { pageSize: 100 } });
  return searchEntries.map(toDirectoryEntry).filter((e) => e.addresses.length > 0);
}
