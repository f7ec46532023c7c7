// Help for the questions the 2006 manual gave none: every question shows some (the manual's own
// help, in questions.ts, comes first). Plain words for an admin who sees the appliance once.
import { SPAM_LEVEL_RANGE } from './questions.js';
import { ANSWER_SETTINGS } from './answers.js';
import type { Field } from '../runtime/config/fields.js';

const DESTINIES =
  "'D_PASS' delivers the message as usual; 'D_BOUNCE' quarantines it and tells the sender (never for viruses, whose senders are forged, unless the sender's address is authenticated); 'D_DISCARD' quarantines it without a word to the sender.";

const EXTRA_HELP: Record<string, string> = {
  hostname:
    'The name this appliance answers to in mail (HELO, bounce notices) and in the quarantine viewer’s address. It should resolve to the appliance in your DNS.',
  address:
    'The appliance’s own address on your network: not 0.0.0.0 or 127.0.0.1. Mail from the Internet reaches it here, through your firewall’s port forwarding for port 25.',
  netmask: 'The mask of the appliance’s network, as on your other servers; 255.255.255.0 for most small networks.',
  gateway: 'The router through which the appliance reaches the Internet: it must be in the appliance’s subnet.',
  dns1: 'A DNS server the appliance may ask: for the final server’s name, spam checks and the virus database updates. Also used as the time (NTP) server when it offers time.',
  dns2: 'A second DNS server, used when the first does not answer. Leave it blank if there is only one.',
  mode: "'smtp': the appliance receives your domain's mail on port 25 (the MX record or your firewall points at it), filters it and hands it to your mail server. 'fetchmail': the appliance collects mail from hosted POP3/IMAP mailboxes instead, filters it and hands it to your mail server; nothing needs to reach it from the Internet.",
  fetchServers:
    'The hosted POP3 or IMAP server holding your mailboxes, like pop.provider.net; then, for each mailbox on it, its user name, password and the local address its mail goes to. A blank server name ends the list.',
  internalDomain: 'The domain your own mail server knows the mailboxes by. Mail to the external domain is accepted for it.',
  relayDomains:
    'Only mail to these domains is accepted from the Internet; everything else is refused. Include every domain your mail server receives mail for.',
  virusDestiny: `${DESTINIES} D_PASS would deliver viruses.`,
  bannedDestiny: `${DESTINIES} The banned file types are listed in /etc/mailfilter/mailfilter.json.`,
  uncheckedDestiny: `${DESTINIES} Encrypted archives are common in legitimate mail and in malware alike.`,
  spoofedDestiny: `${DESTINIES} Forged senders never hear of it, whatever the destiny; D_PASS delivers the forgery.`,
  badHeaderDestiny: `${DESTINIES} Malformed headers are usually harmless mistakes of the sending software.`,
  spamLevel: `SpamAssassin gives every message a score; at this score or above it counts as spam. SpamAssassin’s own default is 5; lower catches more spam and more legitimate mail with it. From ${SPAM_LEVEL_RANGE.min} to ${SPAM_LEVEL_RANGE.max}.`,
  saMaxBodySize: 'Spam is small: scanning large messages for spam costs time and finds little. Larger messages are still scanned for viruses.',
  quarantineMaxMb: 'Quarantined messages are kept on the appliance’s disk; when they take more than this, the oldest are deleted first.',
  ldapUser: 'An account that can read the users and their e-mail addresses in the directory; a plain domain user is enough.',
  ldapPassword: 'The password of that account. It is stored in /etc/mailfilter/mailfilter.json, readable only by root and the filter.',
};

/** Help for a question the manual gave none: ours, else its setting's in the schema. */
export function extraHelp(id: string): string {
  return EXTRA_HELP[id] ?? (ANSWER_SETTINGS as Record<string, Field<unknown>>)[id]?.describe ?? '';
}
