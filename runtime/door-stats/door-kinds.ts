// What the front door counts per day, in the order and with the names the console's chart shows.
export const DOOR_KINDS = ['dnsbl', 'pregreet', 'rate-limit', 'unknown-recipient', 'greylisted', 'greylist-passed'] as const;
export type DoorKind = (typeof DOOR_KINDS)[number];

export const DOOR_LABELS: Record<DoorKind, string> = {
  dnsbl: 'blocklisted',
  pregreet: 'pregreet',
  'rate-limit': 'rate limit',
  'unknown-recipient': 'unknown recipient',
  greylisted: 'greylisted',
  'greylist-passed': 'greylist passed',
};
