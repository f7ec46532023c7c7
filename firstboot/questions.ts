// The setup wizard's questions, in the 2006 manual's order and words, with its defaults, help texts
// and skips. Each question reads and writes one answer; the screen and the engine know nothing else.
import { ANSWER_SETTINGS, type Answers } from './answers.js';
import * as check from './validate.js';
import * as certificateCheck from './certificate-files.js';
import { schema } from '../runtime/config/schema.js';
import { DESTINIES, type NumberRange } from '../runtime/config/fields.js';
import { dkimTypeName, zoneLinesForConsole, type DkimPublication } from '../runtime/checks/auth-dkim-record.js';
import { describeNetworks, isThisAppliance, wideAllowedNetworks } from './networks.js';
import { checkSharedStorage } from './shared-storage.js';
import { maskedUrl } from '../runtime/cluster/probe.js';

export const SECTIONS = ['Network configuration', 'Fetchmail configuration', 'E-mail setup', 'Spam configuration', 'Integration configuration'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Question {
  id: string;
  section: Section;
  help?: string;
  prompt: string;
  secret?: boolean;
  /** How the default is shown in brackets, when not as it is (a password inside it masked). */
  shown?: (value: string) => string;
  skip?: (a: Answers) => boolean;
  /** Asked only in this mode; every other question counts as a step even when skipped. */
  mode?: Answers['mode'];
  /** What Enter on an empty line means. */
  defaultText: (a: Answers) => string;
  check: (value: string, a: Answers) => string | null;
  store: (value: string, a: Answers) => void;
}

const yn = (v: boolean) => (v ? 'yes' : 'no');
const DESTINY_HELP = `For all the destiny options below: 'D_PASS' means the message is delivered as usual. In the case of spam, new headers may be added and the subject of the message changed, allowing mail clients to filter on the values. 'D_BOUNCE' means a bounce notification is returned to the sender and the message is quarantined. 'D_DISCARD' means the message is quarantined and no notification is sent to the sender.`;
const destinies = check.oneOfWords(DESTINIES);
const fetchmail = (a: Answers) => a.mode !== 'fetchmail';
const staticNet = (a: Answers) => a.dhcp;

function text<K extends keyof Answers>(id: K, section: Section, prompt: string, validate: check.Check, more: Partial<Question> = {}): Question {
  return {
    id,
    section,
    prompt,
    defaultText: (a) => String(a[id] ?? ''),
    check: (v) => validate(v),
    store: (v, a) => {
      (a[id] as unknown) = v.trim();
    },
    ...more,
  };
}

function yesNo<K extends keyof Answers>(id: K, section: Section, prompt: string, more: Partial<Question> = {}): Question {
  return {
    id,
    section,
    prompt: `${prompt} (Yes/No)`,
    defaultText: (a) => yn(a[id] as boolean),
    check: (v) => check.yesNo(v),
    store: (v, a) => {
      (a[id] as unknown) = check.isYes(v);
    },
    ...more,
  };
}

/** One of a setting's words, kept in lower case. */
function oneWord<K extends keyof Answers>(id: K, section: Section, prompt: string, words: readonly string[], more: Partial<Question> = {}): Question {
  return {
    id,
    section,
    prompt,
    defaultText: (a) => String(a[id]),
    check: (v) => check.oneOfWords(words)(v),
    store: (v, a) => {
      (a[id] as unknown) = v.trim().toLowerCase();
    },
    ...more,
  };
}

function destiny<K extends keyof Answers>(id: K, prompt: string, help?: string): Question {
  return {
    id,
    section: 'Spam configuration',
    prompt,
    ...(help ? { help } : {}),
    defaultText: (a) => String(a[id]),
    check: (v) => destinies(v),
    store: (v, a) => {
      (a[id] as unknown) = v.trim().toUpperCase();
    },
  };
}

/** A number, in the range its setting allows unless the wizard's own is narrower. */
function numeric<K extends keyof typeof ANSWER_SETTINGS & keyof Answers>(
  id: K,
  section: Section,
  prompt: string,
  range: NumberRange = ANSWER_SETTINGS[id].range!,
): Question {
  return {
    id,
    section,
    prompt,
    defaultText: (a) => String(a[id]),
    check: (v) => check.number(range.min, range.max, range.integer)(v),
    store: (v, a) => {
      (a[id] as unknown) = Number(v);
    },
  };
}

/** An answer checked with its setting's own rule (pattern and words from the schema). */
function schemaCheck(field: { parse(raw: unknown): unknown }): check.Check {
  return (value) => {
    try {
      field.parse(value.trim());
      return value.trim() === '' ? 'Enter a value.' : null;
    } catch (err) {
      return `Enter ${(err as Error).message.replace(/^must be /, '')}.`;
    }
  };
}

export const ACCOUNTS_QUESTION_ID = 'fetchServers';
// Narrower than the setting's: SpamAssassin's own default is 5; at or below 0 most legitimate mail
// would count as spam, above 30 nothing would.
export const SPAM_LEVEL_RANGE: NumberRange = { min: 1, max: 30 };

export const QUESTIONS: Question[] = [
  text('hostname', 'Network configuration', 'Enter the fully qualified hostname (eg, mailfilter.company.com)', check.fqdn),
  yesNo('dhcp', 'Network configuration', 'Use DHCP to configure network settings?', {
    help: 'If using SMTP-mode, it is best to enter a static IP address. Fetchmail mode can use either.',
  }),
  text('address', 'Network configuration', 'Enter the IP address to use (eg, 192.168.100.10)', check.hostAddress, { skip: staticNet }),
  text('netmask', 'Network configuration', 'Enter the subnet mask to use (eg, 255.255.255.0)', check.netmask, { skip: staticNet }),
  {
    ...text('gateway', 'Network configuration', 'Enter the address of the default gateway (eg, 192.168.100.1)', check.ipv4, { skip: staticNet }),
    check: (v, a) =>
      check.ipv4(v) ??
      (check.inSubnet(v, a.address, a.netmask) ? null : `The gateway must be in the appliance's subnet (${a.address} with mask ${a.netmask}).`),
  },
  text('dns1', 'Network configuration', 'Enter the address of the primary DNS server (eg, 192.168.100.1)', check.ipv4, { skip: staticNet }),
  text('dns2', 'Network configuration', 'Enter the address of the secondary DNS server (eg, 192.168.100.2) (blank for none)', check.optionalIpv4, {
    skip: staticNet,
  }),

  oneWord('mode', 'Fetchmail configuration', 'Use fetchmail or use as SMTP server (fetchmail/smtp)', schema.mail.mode.values!),
  yesNo(
    'enterAccounts',
    'Fetchmail configuration',
    'Would you like to enter account information to be used by fetchmail? If there are more than a few accounts it is recommended to edit the accounts file (/etc/mailfilter/fetch-accounts.json) directly',
    {
      skip: fetchmail,
      mode: 'fetchmail',
      help: 'In a deployment with many users it is quickest to enter the information into the accounts file directly. However, it can still be useful to enter an account or two as is done here for use as examples, or as test accounts before full deployment.',
    },
  ),
  yesNo(
    'keep',
    'Fetchmail configuration',
    'Would you like to keep messages on the servers after fetching? Strongly recommended when first configuring a system.',
    {
      skip: fetchmail,
      mode: 'fetchmail',
      help: 'Using this option means no mail will ever be deleted from the hosting mail server. It corresponds to the fetchmail option "keep." After the server has been tested and shown to be operating correctly, you should edit the accounts file to set "keep": false, else the mailboxes on the remote server will eventually fill.',
    },
  ),
  // Answered through a loop of its own (server, user, password, local address); see wizard.ts.
  {
    id: ACCOUNTS_QUESTION_ID,
    section: 'Fetchmail configuration',
    prompt: 'Enter a server to poll (blank to quit)',
    skip: (a) => a.mode !== 'fetchmail' || !a.enterAccounts,
    mode: 'fetchmail',
    defaultText: () => '',
    check: () => null,
    store: () => undefined,
  },

  text('externalDomain', 'E-mail setup', 'External mail domain (eg, company.com)', check.domain, {
    help: 'The answers here reflect a common layout when using Microsoft Small Business Server, where the internal domain is distinguished from the public domain by the use of the .local suffix. There is no requirement that the external mail domain and the internal one be different.',
  }),
  {
    ...text('internalDomain', 'E-mail setup', 'Internal mail domain (eg, company.local). Very often this is the same as the external', check.domain),
    defaultText: (a) => a.internalDomain || a.externalDomain,
  },
  {
    ...text(
      'finalServer',
      'E-mail setup',
      'Enter the full name or address of the mail server to take final delivery after filtering is complete',
      check.hostOrIp,
      {
        help: 'This setting is the hostname of the "real" mail server on your network that should take delivery of all messages. Make sure it is entered accurately and that it is reachable by the appliance. If it is not, mail could be bounced.',
      },
    ),
    check: (v, a) =>
      check.hostOrIp(v) ?? (isThisAppliance(v, a) ? `${v.trim()} is this appliance itself: mail would loop. Enter your organisation's own mail server.` : null),
  },
  {
    id: 'relayDomains',
    section: 'E-mail setup',
    prompt: 'Enter a comma separated list of domains this server should service / relay',
    defaultText: (a) => (a.relayDomains.length ? a.relayDomains : [...new Set([a.externalDomain, a.internalDomain].filter(Boolean))]).join(', '),
    check: (v) => check.domainList(v),
    store: (v, a) => {
      a.relayDomains = check.splitList(v).map((d) => d.toLowerCase());
    },
  },
  {
    id: 'allowedNetworks',
    section: 'E-mail setup',
    // 'host' in both modes (the manual had 'subnet' for SMTP): behind NAT or port forwarding every
    // connection from the Internet comes from an address inside the subnet, which made an open relay.
    help: "The default is 'host': only the appliance itself may send mail to other domains. Choose 'subnet' or list networks only if this appliance also sends your clients' outgoing mail, and never when mail from the Internet reaches it through NAT or port forwarding: those connections then come from an address on your own network, and anyone could relay through it. If your network consists of more than one subnet, enter a comma separated list of all the networks from which it will accept connections.",
    prompt:
      "Enter 'host', 'subnet', or a comma separated list of networks (eg, 192.168.100.0/24) from which this server should allow clients. The default option is usually best unless one is sure they have other requirements",
    defaultText: (a) => (a.allowedNetworks.length ? a.allowedNetworks : schema.mail.allowedNetworks.default).join(', '),
    check: (v, a) =>
      check.networks(v) ??
      (check.splitList(v)[0] === 'subnet' && a.dhcp
        ? "With DHCP the subnet is not known in advance: enter 'host' or the networks, like 192.168.100.0/24."
        : null),
    store: (v, a) => {
      a.allowedNetworks = check.splitList(v);
    },
  },
  {
    id: 'wideNetworksConfirmed',
    section: 'E-mail setup',
    skip: (a) => wideAllowedNetworks(a).length === 0,
    help: 'Every host in the allowed networks may send mail through this appliance to any domain on the Internet. A network this wide is an open relay: spammers find such servers within hours, and the appliance’s address ends up on block lists. Press Ctrl-B to go back and enter narrower networks.',
    prompt: "The allowed networks include a network wider than a /16. Type 'yes, I understand' to allow relaying from it",
    // The confirmation holds for the networks it was given for: other networks ask again.
    defaultText: (a) => (a.wideNetworksConfirmed !== '' && a.wideNetworksConfirmed === a.allowedNetworks.join(', ') ? check.UNDERSTOOD : ''),
    check: (v, a) =>
      v.trim().toLowerCase() === check.UNDERSTOOD.toLowerCase()
        ? null
        : `${wideAllowedNetworks(a).join(', ')} would make an open relay. Type '${check.UNDERSTOOD}', or Ctrl-B to change the networks.`,
    store: (_, a) => {
      a.wideNetworksConfirmed = a.allowedNetworks.join(', ');
    },
  },
  yesNo(
    'dkimSign',
    'E-mail setup',
    'Sign outgoing mail from the allowed networks with DKIM? The appliance makes the key; you publish its DNS record, shown on the review',
    {
      help: 'Receivers check a DKIM signature against a TXT record in your domain’s DNS, which makes your mail harder to forge and easier to deliver. Only mail from the allowed networks whose From: is your external domain (or below it) is signed, as it leaves the filter. Apply makes the key once and never replaces it: the DNS record must be published before the signatures can verify.',
    },
  ),
  text('dkimSelector', 'E-mail setup', 'DKIM selector: the key is published at <selector>._domainkey.<your domain>', schemaCheck(schema.dkim.selector), {
    skip: (a) => !a.dkimSign,
    help: 'A name of your choosing for this key. To change keys later, choose a new selector: apply makes a new key for it and keeps the old one, whose record can stay published until the mail signed with it has been read.',
  }),
  oneWord(
    'dkimAlgorithm',
    'E-mail setup',
    'DKIM key type (rsa/ed25519). rsa (RSA-2048) is verified by every receiver; ed25519 is shorter, but not every receiver verifies it yet',
    schema.dkim.algorithm.values!,
    { skip: (a) => !a.dkimSign },
  ),

  destiny(
    'spamDestiny',
    'Spam message destiny (D_PASS, D_BOUNCE, or D_DISCARD). It is safest to use D_PASS, and allow the clients to filter on the X-Spam-Status or X-Spam-Level headers.',
    DESTINY_HELP,
  ),
  destiny(
    'virusDestiny',
    'Virus message destiny (D_PASS, D_BOUNCE, or D_DISCARD). It is strongly recommended to use D_BOUNCE or D_DISCARD so that infected messages cannot be delivered to clients.',
  ),
  destiny(
    'bannedDestiny',
    'Banned attachment message destiny (D_PASS, D_BOUNCE, or D_DISCARD). D_BOUNCE or D_DISCARD should be used so disallowed attachments (eg, .exe) are not delivered to clients.',
  ),
  destiny(
    'uncheckedDestiny',
    'Unchecked message destiny (D_PASS, D_BOUNCE, or D_DISCARD), for mail with content that could not be checked: encrypted or damaged archives, or archives past the inspection limits. With D_PASS it is delivered with ***UNCHECKED*** before the subject.',
  ),
  destiny(
    'spoofedDestiny',
    'Spoofed message destiny (D_PASS, D_BOUNCE, or D_DISCARD), for forged mail: DMARC fail under p=reject, or From: your own domain sent from outside the allowed networks without SPF or DKIM. D_DISCARD holds it in the quarantine without a word to the forged sender.',
  ),
  destiny(
    'badHeaderDestiny',
    'Bad header message destiny (D_PASS, D_BOUNCE, or D_DISCARD). Leave this at the default if delivering a message with a malformed header is OK.',
  ),
  numeric(
    'spamLevel',
    'Spam configuration',
    'Spam level - the score required to mark a message as spam (X-Spam-Status: Yes) and trigger corresponding action.',
    SPAM_LEVEL_RANGE,
  ),
  yesNo(
    'allowBannedInArchives',
    'Spam configuration',
    'Allow banned attachments if they are inside an archive? Eg, if .exe attachments are banned, they can still be received if they are packaged inside a .zip attachment. The full list of affected archive types is: zip, bz2, gz, tgz, tbz.',
    {
      help: 'Many organizations find it valuable to ban certain types of attachments regardless of whether they contain a known virus. Common examples are .exe and .vbs, both of which are blocked by default. If encapsulating a banned file type within an archive should allow it to pass, set this to "yes." If banned attachment types should never be allowed, leave this at the default "no."',
    },
  ),
  numeric(
    'saMaxBodySize',
    'Spam configuration',
    'SA maximum mail body size (in bytes). Messages larger than this size will be scanned for viruses, but not for spam.',
  ),
  numeric(
    'quarantineMaxMb',
    'Spam configuration',
    'Maximum size of the quarantine mail folder (in MB). When the quarantine folder reaches this size, the oldest messages are deleted',
  ),
  yesNo('extraRules', 'Spam configuration', 'Use extra spam checking rules? Recommended unless the server is under a high load.', {
    help: 'This enables additional spam checking rules beyond the base set used by SpamAssassin: the KAM rule channel, updated daily by sa-update with the standard rules. In general, the more rules are available, the better the spam scoring functions.',
  }),

  {
    id: 'dnsLists',
    section: 'Spam configuration',
    skip: (a) => a.mode !== 'smtp',
    mode: 'smtp',
    help: `Before a client reaches the mail server, postscreen asks these DNS lists about its address and adds the weights of the lists it is on (negative for allow lists like DNSWL); at ${schema.door.dnsblThreshold.default} it is refused with '550 5.7.1 Service unavailable; client [address] blocked using <list>'. The defaults are free for small sites only: Spamhaus for non-commercial use or under 100,000 queries a day (else a paid Data Query Service key), SpamCop, Mailspike and DNSWL for low volumes; check each list's terms for your site. The lists refuse queries that come through big public resolvers (8.8.8.8, 1.1.1.1): the appliance's own resolver asks them directly.`,
    prompt:
      "DNS blocklists to screen clients with. Press Enter to keep the lists shown, type 'none' to use none, or a comma separated list (eg, zen.spamhaus.org=127.0.0.[2..11]*3)",
    defaultText: (a) => (a.dnsLists.length ? a.dnsLists.join(', ') : 'none'),
    check: (v) => {
      if (v.trim().toLowerCase() === 'none') return null;
      try {
        schema.door.dnsblSites.parse(check.splitList(v));
        return null;
      } catch (err) {
        return `Enter lists like zen.spamhaus.org=127.0.0.[2..11]*3 or 'none' (${(err as Error).message}).`;
      }
    },
    store: (v, a) => {
      a.dnsLists = v.trim().toLowerCase() === 'none' ? [] : check.splitList(v);
    },
  },
  {
    id: 'tlsCert',
    section: 'Spam configuration',
    help: `Sending servers that ask for STARTTLS on port 25 get this certificate; mail from the big providers then arrives encrypted. Leave it blank and apply makes a self-signed one for the host name (senders encrypt with it all the same; they rarely check). A file of your own must be PEM, with any intermediate certificates after the server's, current, and readable by root.`,
    prompt: `Certificate file (PEM) offered with STARTTLS on port 25 ('${certificateCheck.NO_CERTIFICATE}': a self-signed one made for the host name)`,
    defaultText: (a) => a.tlsCert || certificateCheck.NO_CERTIFICATE,
    check: (v) => certificateCheck.certificateFile(v),
    store: (v, a) => {
      a.tlsCert = v.trim().toLowerCase() === certificateCheck.NO_CERTIFICATE ? '' : v.trim();
      // No certificate of its own: no key of its own either (apply's self-signed pair is used).
      if (a.tlsCert === '') a.tlsKey = '';
    },
  },
  {
    ...text('tlsKey', 'Spam configuration', 'Private key file (PEM, no passphrase) of that certificate', check.required('the key file'), {
      skip: (a) => a.tlsCert === '',
      help: 'The key that belongs to the certificate above, without a passphrase: Postfix starts unattended. Keep it readable by root only (chmod 600).',
    }),
    check: (v, a) => certificateCheck.keyFile(v, a.tlsCert),
  },
  {
    id: 'outboundTls',
    section: 'Spam configuration',
    help: "'may': filtered mail goes to your mail server encrypted when it offers STARTTLS, plain when it does not, and its certificate is not checked (most internal servers have a self-signed one). 'verify': mail waits in the queue unless the server offers TLS with a certificate valid for the name you gave it, signed by the CA file you name next or by a public CA.",
    prompt: `TLS to the final mail server: '${schema.postfix.outboundTls.values!.join("' or '")}' (${schema.postfix.outboundTls.values!.join('/')})`,
    defaultText: (a) => a.outboundTls,
    check: (v) => check.oneOfWords(schema.postfix.outboundTls.values!)(v.trim()),
    store: (v, a) => {
      a.outboundTls = v.trim().toLowerCase() as Answers['outboundTls'];
      // The CA verifies the final server only with 'verify'.
      if (a.outboundTls !== 'verify') a.outboundCaFile = '';
    },
  },
  {
    id: 'outboundCaFile',
    section: 'Spam configuration',
    skip: (a) => a.outboundTls !== 'verify',
    help: `For a final server whose certificate your own CA signed (an Active Directory Certificate Services CA, for instance): export that CA certificate as PEM (Base-64), copy it to the appliance and enter its path. '${certificateCheck.PUBLIC_CAS}' when a public CA signed it.`,
    prompt: `CA certificate file (PEM) that signed the final mail server's certificate ('${certificateCheck.PUBLIC_CAS}': the public CAs this appliance knows)`,
    defaultText: (a) => a.outboundCaFile || certificateCheck.PUBLIC_CAS,
    check: (v) => certificateCheck.caFile(v),
    store: (v, a) => {
      a.outboundCaFile = v.trim().toLowerCase() === certificateCheck.PUBLIC_CAS ? '' : v.trim();
    },
  },

  yesNo('viewerEnabled', 'Integration configuration', 'Enable web interface for viewing quarantined messages? The URL is https://<server>/viewer/', {
    help: 'This chooses whether to enable the web interface for viewing quarantined messages. The viewer allows a user to see and delete quarantined messages, and an administrator to see messages for any user and to clear the quarantine folder.',
  }),
  yesNo(
    'exchange',
    'Integration configuration',
    'Use Microsoft Exchange recipient integration? This provides automated construction of an allowed recipients map by querying the Exchange server. If you selected to enable the web viewer, it allows users to login to it using their Exchange address and password',
    {
      help: 'Exchange integration takes two forms. The first is Postfix integration: the Exchange server is periodically queried to retrieve a list of mail accounts, and an allowed recipients list is constructed from the results. The second is viewer integration: users can login to the web viewer (if enabled) using their Exchange e-mail address and password.',
    },
  ),
  yesNo(
    'verifyRecipients',
    'Integration configuration',
    'Ask the final mail server whether each recipient exists, and refuse mail for unknown recipients while the sender is still connected?',
    {
      skip: (a) => a.mode !== 'smtp' || a.exchange,
      mode: 'smtp',
      help: 'Without a directory the appliance does not know your users. With this on, Postfix asks the final server (RCPT TO, no message sent) and remembers the answer for days, so mail for people who do not exist is refused at once instead of accepted and bounced to a sender who is usually forged.',
    },
  ),
  text('ldapServer', 'Integration configuration', 'Enter the hostname of the Exchange-enabled Active Directory server to connect to', check.hostOrIp, {
    skip: (a) => !a.exchange,
    help: 'The integration tools connect with LDAPS, then StartTLS, and verify the server certificate. Plain LDAP is only tried when LDAP_ALLOW_INSECURE (directory.allowInsecure in /etc/mailfilter/mailfilter.json) is set to true.',
  }),
  text(
    'ldapUser',
    'Integration configuration',
    'Enter an Active Directory username to use to connect. The username can be in the form of an LDAP DN or user@domain. The user only needs read access to the part of directory to be scanned for accounts. Do not use a privileged account!',
    check.dnOrUserAtDomain,
    { skip: (a) => !a.exchange },
  ),
  {
    ...text('ldapPassword', 'Integration configuration', 'Enter the password for the account', check.required('the password'), { skip: (a) => !a.exchange }),
    secret: true,
  },
  {
    ...text(
      'ldapBaseDn',
      'Integration configuration',
      'Enter the base DN of the topmost container to scan. This can be the top of the domain such as "DC=company,DC=local" or a sub-container like "CN=Users,DC=company,DC=local"',
      check.distinguishedName,
      { skip: (a) => !a.exchange },
    ),
    help: "In a standard Active Directory installation, with a domain name such as 'company.local,' the root of the Active Directory tree will be 'DC=company,DC=local'. Common user locations are 'CN=Users,DC=company,DC=local' and, in the case of Small Business Server, 'OU=MyBusiness,DC=company,DC=local'.",
    defaultText: (a) =>
      a.ldapBaseDn ||
      (a.internalDomain
        ? a.internalDomain
            .split('.')
            .map((p) => `DC=${p}`)
            .join(',')
        : ''),
  },
  yesNo('sharedStorage', 'Integration configuration', 'Share storage with other appliances (PostgreSQL)?', {
    help: "Answer 'no' for an appliance on its own. Two or more appliances behind MX records of equal priority can share one PostgreSQL database (15 or later, TLS on), so that any of them shows and releases any held message. Each keeps its own network settings, host name, certificate and mail queue. The database and its user must exist: see the README, 'Several appliances, one PostgreSQL'.",
  }),
  {
    id: 'storageCaFile',
    section: 'Integration configuration',
    skip: (a) => !a.sharedStorage,
    help: `The database server's certificate is verified, name and all. If your own CA signed it, copy that CA certificate (PEM) to the appliance and enter its path; '${certificateCheck.PUBLIC_CAS}' when a public CA signed it.`,
    prompt: `CA certificate file (PEM) that signed the database server's certificate ('${certificateCheck.PUBLIC_CAS}': the public CAs this appliance knows)`,
    defaultText: (a) => a.storageCaFile || certificateCheck.PUBLIC_CAS,
    check: (v) => certificateCheck.caFile(v),
    store: (v, a) => {
      a.storageCaFile = v.trim().toLowerCase() === certificateCheck.PUBLIC_CAS ? '' : v.trim();
    },
  },
  {
    id: 'storageUrl',
    section: 'Integration configuration',
    skip: (a) => !a.sharedStorage,
    help: 'Enter checks it at once: the appliance connects (TLS, the certificate verified) and reads the version of the shared schema. A database a newer release has migrated is refused: upgrade this appliance first. An older one is brought up to date when the filter starts, by one node at a time.',
    prompt: 'PostgreSQL connection string (postgresql://user:password@host:5432/database)',
    shown: maskedUrl,
    defaultText: (a) => a.storageUrl,
    check: (v, a) => schemaCheck(schema.storage.url)(v) ?? sharedStorageProblem(v.trim(), a.storageCaFile),
    store: (v, a) => {
      a.storageUrl = v.trim();
    },
  },
];

function sharedStorageProblem(url: string, caFile: string): string | null {
  const { error } = checkSharedStorage(url, caFile);
  return error ? `Cannot share it: ${error}.` : null;
}

function dkimReviewLines(a: Answers, dkim?: DkimPublication): string[] {
  if (!a.dkimSign) return ['  DKIM-sign outgoing mail: no'];
  const lines = [`  DKIM-sign outgoing mail: yes, selector ${a.dkimSelector}, ${dkimTypeName(a.dkimAlgorithm)}`];
  if (!dkim || dkim.state === 'off') return lines;
  if (dkim.state === 'missing')
    return [
      ...lines,
      `  DKIM key: apply makes ${dkim.keyFile}; the TXT record to publish at ${dkim.name} is shown at its end, by 'mailfilter status' and on the viewer's console`,
    ];
  if (dkim.state === 'unreadable') return [...lines, `  DKIM key: ${dkim.keyFile} cannot be read (${dkim.reason})`];
  return [...lines, `  DKIM key: ${dkim.keyFile} (kept). Publish this TXT record:`, ...zoneLinesForConsole(dkim.record).map((l) => `  ${l}`)];
}

function storageReviewLines(a: Answers, found?: string): string[] {
  if (!a.sharedStorage) return ['  Shared storage (PostgreSQL): no, this appliance alone'];
  return [
    `  Shared storage (PostgreSQL): yes, ${maskedUrl(a.storageUrl)}`,
    `  Database server's CA: ${a.storageCaFile || 'the public CAs'}`,
    ...(found ? [`  Found: ${found}`] : []),
  ];
}

const mask = (secret: string) => (secret ? '********' : '');

/** The review screen, as in the manual; passwords never shown. */
/** `certificate`: the appliance's TLS certificate in words (runtime/tls/describe.ts), when known. */
/** `dkim`: the DKIM key these answers sign with, and whether it exists yet. */
/** `storage`: what was found at the shared database (its schema's version), when it was reached. */
export function reviewLines(a: Answers, certificate?: string, dkim?: DkimPublication, storage?: string): string[] {
  const lines = [
    'Network configuration:',
    `  Hostname: ${a.hostname}`,
    `  Use DHCP: ${yn(a.dhcp)}`,
    ...(a.dhcp
      ? []
      : [
          `  IP Address: ${a.address}`,
          `  Subnet Mask: ${a.netmask}`,
          `  Default Gateway: ${a.gateway}`,
          `  Primary DNS: ${a.dns1}`,
          `  Secondary DNS: ${a.dns2}`,
        ]),
    'Mail configuration:',
    `  Destination mail server: ${a.finalServer}`,
    `  TLS to the final server: ${a.outboundTls === 'verify' ? `verify (CA: ${a.outboundCaFile || 'the public CAs'})` : 'may (when offered)'}`,
    `  Fetchmail or SMTP: ${a.mode}`,
  ];
  if (a.mode === 'fetchmail' && a.enterAccounts) {
    for (const server of a.fetchServers) {
      lines.push(`  ${server.host} (${server.protocol}):`);
      for (const account of server.accounts) lines.push(`    ${account.user} ${mask(account.password)} ${account.deliverTo}`);
    }
  }
  if (a.mode === 'fetchmail') lines.push(`  Keep messages on the server: ${yn(a.keep)}`);
  lines.push(
    `  Ext. mail domain: ${a.externalDomain}`,
    `  Int. mail domain: ${a.internalDomain}`,
    `  Spam destiny: ${a.spamDestiny}`,
    `  Banned destiny: ${a.bannedDestiny}`,
    `  Unchecked destiny: ${a.uncheckedDestiny}`,
    `  Spoofed destiny: ${a.spoofedDestiny}`,
    `  Bad header destiny: ${a.badHeaderDestiny}`,
    `  Virus destiny: ${a.virusDestiny}`,
    `  Spam level: ${a.spamLevel}`,
    `  Allow banned inside archives?: ${yn(a.allowBannedInArchives)}`,
    `  Max message size to scan for spam: ${a.saMaxBodySize}`,
    `  Quarantine size (MB): ${a.quarantineMaxMb}`,
    `  Use extra spam rules?: ${yn(a.extraRules)}`,
    `  Allowed networks: ${describeNetworks(a)}`,
    ...(a.mode === 'smtp' ? [`  DNS blocklists: ${a.dnsLists.join(', ') || 'none'}`] : []),
    ...(certificate ? [`  TLS certificate: ${certificate}`] : []),
    ...dkimReviewLines(a, dkim),
    ...a.relayDomains.map((d) => `  Relay domain: ${d}`),
    'Integration:',
    `  Use web quarantine viewer?: ${yn(a.viewerEnabled)}`,
    `  Use Exchange: ${yn(a.exchange)}`,
  );
  if (a.mode === 'smtp' && !a.exchange) lines.push(`  Verify recipients at the final server: ${yn(a.verifyRecipients)}`);
  if (a.exchange) {
    lines.push(
      `  Exchange server: ${a.ldapServer}`,
      `  Active Directory user: ${a.ldapUser}`,
      `  Active Directory pw: ${mask(a.ldapPassword)}`,
      `  Active Directory base DN: ${a.ldapBaseDn}`,
    );
  }
  lines.push(...storageReviewLines(a, storage));
  return lines;
}
