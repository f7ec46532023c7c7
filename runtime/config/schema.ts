// The appliance config: one section per subsystem, every setting with its default and help text.
// Defaults follow the 2006 appliance's setup wizard where it had the question.
import {
  allowedNetworks,
  bool,
  destiny,
  domain,
  hostname,
  hostOrAddress,
  ipv4,
  list,
  num,
  oneOf,
  port,
  postgresUrl,
  text,
  whole,
  type Field,
} from './fields.js';
import { EMAIL_ADDRESS } from '../mail/address.js';

export const CATEGORIES = ['VIRUS', 'BANNED', 'UNCHECKED', 'SPOOFED', 'SPAM', 'BADH'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CHECK_NAMES = ['virus', 'spam', 'banned', 'headers', 'auth'] as const;
const category = oneOf(CATEGORIES, 'SPAM', 'a quarantine reason');
// postfix's postscreen_dnsbl_sites syntax: a zone, an optional =answer filter, an optional *weight.
const dnsblSite = text('', 'a DNS list', {
  pattern: /^[a-z0-9.-]+\.[a-z0-9-]+(=[0-9.[\];.]+)?(\*-?\d{1,3})?$/i,
  what: 'a list like zen.spamhaus.org=127.0.0.[2..11]*3',
  allowEmpty: false,
});
const extension = text('', 'a file name extension', { pattern: /^[a-z0-9]{1,16}$/i, what: 'an extension without the dot, like exe', allowEmpty: false });

export const schema = {
  network: {
    hostname: hostname('mailfilter.localdomain', 'Fully qualified host name of the appliance (eg, mailfilter.company.com)'),
    dhcp: bool(false, 'Use DHCP to configure network settings'),
    address: ipv4('', 'IP address to use (eg, 192.168.100.10)'),
    netmask: ipv4('', 'Subnet mask (eg, 255.255.255.0)'),
    gateway: ipv4('', 'Default gateway (eg, 192.168.100.1)'),
    dns1: ipv4('', 'Primary DNS server (eg, 192.168.100.1)'),
    dns2: ipv4('', 'Secondary DNS server (blank for none)'),
    interface: text('eth0', 'Network interface to configure', { pattern: /^[a-z][a-z0-9]{0,14}$/, what: 'an interface name like eth0' }),
  },
  mail: {
    mode: oneOf(['fetchmail', 'smtp'] as const, 'fetchmail', 'Fetch mail from hosted POP3/IMAP mailboxes, or receive it as an SMTP server'),
    externalDomain: text('', 'External mail domain (eg, company.com)', { pattern: /^[a-z0-9.-]+\.[a-z0-9-]+$/i, what: 'a domain like company.com' }),
    internalDomain: text('', 'Internal mail domain (eg, company.local); very often the same as the external', {
      pattern: /^[a-z0-9.-]+\.[a-z0-9-]+$/i,
      what: 'a domain like company.local',
    }),
    finalServer: hostOrAddress('', 'Name or address of the mail server that takes final delivery after filtering'),
    finalServerPort: port(25, 'SMTP port of the final mail server'),
    relayDomains: list(domain('', 'a mail domain'), [], 'Domains this appliance accepts mail for and relays to the final server'),
    allowedNetworks: allowedNetworks(['host'], "'host', 'subnet', or networks (CIDR) allowed to relay through this appliance"),
  },
  fetch: {
    keep: bool(true, 'Keep messages on the server after fetching (fetchmail "keep")'),
    accountsFile: text('/etc/mailfilter/fetch-accounts.json', 'File listing the mailboxes to fetch from'),
    intervalSeconds: whole(300, 'Seconds between polls', 10, 86400),
    concurrency: whole(4, 'Accounts polled at once', 1, 64),
    stateDir: text('/var/lib/mailfilter/fetch', 'Folder for what was already fetched, and messages in transit'),
    timeoutSeconds: num(60, 'Seconds to wait for a mail server before giving up on this poll', { min: 5, max: 3600 }),
    leaseSeconds: whole(
      60,
      'Several appliances (storage.backend postgresql): each mailbox is polled by one node at a time, under a lease it renews; seconds before another node takes over the mailboxes of a node that died',
      2,
      3600,
    ),
  },
  policy: {
    spamDestiny: destiny('D_PASS', 'Spam message destiny'),
    virusDestiny: destiny('D_BOUNCE', 'Virus message destiny'),
    bannedDestiny: destiny('D_BOUNCE', 'Banned attachment message destiny'),
    badHeaderDestiny: destiny('D_PASS', 'Bad header message destiny'),
    uncheckedDestiny: destiny(
      'D_PASS',
      'Destiny of mail with content that could not be checked (encrypted or corrupt archives, archives past the inspection limits)',
    ),
    spoofedDestiny: destiny(
      'D_DISCARD',
      'Destiny of forged mail: DMARC fail under p=reject, or From: one of our domains sent from outside the allowed networks without SPF pass or aligned DKIM (D_BOUNCE sends no notice: the sender is forged)',
    ),
    uncheckedSubjectTag: text('***UNCHECKED*** ', 'Text put before the subject of unchecked mail that is delivered (empty for none)'),
    spamLevel: num(6.31, 'Score required to mark a message as spam', { min: -100, max: 1000 }),
    spamSubjectTag: text('***SPAM*** ', 'Text put before the subject of spam that is delivered (empty for none)'),
    dsnCutoffLevel: num(10, 'No bounce notice is sent for spam scoring at or above this (backscatter)', { min: 0, max: 1000 }),
    allowBannedInArchives: bool(false, 'Allow banned attachments when they are inside an archive (zip, gz, bz2, tar, 7z, rar, cab, iso, …)'),
    bannedExtensions: list(
      extension,
      ['exe', 'vbs', 'scr', 'pif', 'bat', 'cmd', 'com', 'cpl', 'js', 'jse', 'wsf', 'hta', 'vbe', 'msi', 'lnk', 'reg', 'ps1'],
      'File name extensions that are banned',
    ),
    saMaxBodySize: whole(524288, 'Messages larger than this (bytes) are scanned for viruses but not for spam', 1024, 1073741824),
    extraRules: bool(true, 'Use extra spam rule channels'),
    maxArchiveDepth: whole(4, 'How deep archives inside archives are opened', 1, 16),
    maxArchiveBytes: whole(104857600, 'Most bytes unpacked from one message’s archives before it counts as an archive bomb', 1048576, 4294967296),
    maxArchiveEntries: whole(10000, 'Most files listed from one message’s archives', 10, 1000000),
    maxInspectionSeconds: num(60, 'Most seconds spent decoding one message’s containers; past it the message is UNCHECKED', { min: 1, max: 3600 }),
    banMacroDocuments: bool(false, 'Ban Office documents with VBA macros (vbaProject.bin in .docm/.xlsm/.pptm, macros in .doc/.xls)'),
  },
  quarantine: {
    dir: text('/var/lib/mailfilter/quarantine', 'Folder holding quarantined messages and their index'),
    maxSizeMb: whole(500, 'Maximum size of the quarantine (MB); the oldest messages are deleted beyond it', 1, 1048576),
  },
  storage: {
    backend: oneOf(
      ['sqlite', 'postgresql'] as const,
      'sqlite',
      'Where the quarantine is kept: sqlite (this appliance alone, files beside the index) or postgresql (one database shared by several appliances behind equal MX records)',
    ),
    url: postgresUrl(
      '',
      'PostgreSQL connection string, postgresql://user:password@host:5432/database; TLS with a verified certificate unless the host is loopback',
    ),
    caFile: text('', "CA certificate (PEM) that signed the PostgreSQL server's certificate (blank: the system's CAs)"),
  },
  viewer: {
    enabled: bool(true, 'Enable the web interface for quarantined messages (https://<server>/viewer/)'),
    loginMethod: oneOf(['local', 'ldap'] as const, 'local', 'LOGIN_METHOD: local viewer accounts, or bind to the directory'),
    allowedDownloadTypes: list(
      category,
      ['SPAM', 'BADH'],
      'ALLOWED_DOWNLOAD_TYPES: quarantine reasons whose originals users may download (only those they also release themselves; the administrator downloads any)',
    ),
    listenAddress: text('0.0.0.0', 'Address the viewer listens on'),
    httpsPort: port(443, 'HTTPS port of the viewer'),
    httpPort: whole(80, 'HTTP port that redirects to HTTPS (0 for none)', 0, 65535),
    tlsCert: text('', 'TLS certificate file (blank: a self-signed one is made)'),
    tlsKey: text('', 'TLS private key file'),
    dataDir: text('/var/lib/mailfilter/viewer', 'Folder for the viewer’s accounts database and its generated certificate'),
    sessionHours: num(8, 'Hours a viewer login lasts without activity', { min: 1, max: 720 }),
    sessionMaxHours: num(24, 'Hours a viewer login lasts at most, however active', { min: 1, max: 720 }),
    adminEmail: text('', 'E-mail address told of new release requests (blank: nobody; the console shows them)', {
      pattern: EMAIL_ADDRESS,
      what: 'an e-mail address',
    }),
    publicUrl: text('', 'Address users reach the viewer at, for links in digests (blank: https://<host name>/viewer)', {
      pattern: /^https:\/\/[^\s/]+(\/[^\s]*)?$/,
      what: 'an https:// address like https://mailfilter.company.com/viewer',
    }),
  },
  digest: {
    sendHour: whole(7, 'Hour of the day (0-23, local time) quarantine digests are sent', 0, 23),
    linkValidDays: whole(14, 'Days the action links in a digest keep working', 1, 90),
  },
  directory: {
    enabled: bool(false, 'Microsoft Exchange / Active Directory recipient integration'),
    server: hostOrAddress('', 'Exchange-enabled Active Directory server'),
    bindUser: text('', 'Read-only account used to query the directory (LDAP DN or user@domain)'),
    bindPassword: text('', 'Password of that account'),
    baseDn: text('', 'Base DN of the topmost container to scan (eg, OU=MyBusiness,DC=company,DC=local)'),
    allowInsecure: bool(false, 'LDAP_ALLOW_INSECURE: fall back to plain LDAP when LDAPS and StartTLS fail'),
    caFile: text('', 'CA certificate file used to verify the directory server (blank: system CAs)'),
    ldapsPort: port(636, 'LDAPS port of the directory server'),
    ldapPort: port(389, 'LDAP port (StartTLS, or plain when allowed) of the directory server'),
    timeoutSeconds: num(20, 'Seconds to wait for the directory server', { min: 1, max: 600 }),
  },
  filter: {
    listenHost: text('127.0.0.1', 'Address the content filter listens on for Postfix (LMTP)'),
    listenPort: port(10024, 'Port of the content filter'),
    maxConnections: whole(10, 'Messages filtered at once (Postfix opens at most this many connections)', 1, 500),
    spoolDir: text('/var/spool/mailfilter', 'Folder for messages being filtered'),
    maxMessageBytes: whole(52428800, 'Largest message accepted (bytes)', 65536, 1073741824),
    productName: text('mailfilter', 'Product named in X-Virus-Scanned'),
    checks: list(oneOf(CHECK_NAMES, 'virus', 'a check'), [...CHECK_NAMES], 'Checks run on every message (an empty list passes mail through unchecked)'),
  },
  postfix: {
    smtpPort: port(25, 'Port Postfix receives mail on'),
    reinjectHost: text('127.0.0.1', 'Address of Postfix’s re-injection listener (no content filter there)'),
    reinjectPort: port(10025, 'Port of Postfix’s re-injection listener'),
    configDir: text('/etc/postfix', 'Postfix configuration folder'),
    tlsCert: text(
      '',
      'Certificate file (PEM, intermediates after it) offered with STARTTLS on port 25 (blank: the viewer’s, made self-signed for the host name unless the viewer names one)',
    ),
    tlsKey: text('', 'Private key file of that certificate'),
    outboundTls: oneOf(
      ['may', 'verify'] as const,
      'may',
      'TLS to the final server: may (used when offered, unverified) or verify (required, and the certificate must be valid for its name)',
    ),
    outboundCaFile: text('', 'CA certificate file that verifies the final server with outboundTls verify (blank: the system CAs)'),
  },
  door: {
    postscreen: bool(
      true,
      'Screen SMTP clients with postscreen (pregreet test, DNS lists) before they reach the SMTP server; the allowed networks are never screened',
    ),
    pregreetAction: oneOf(
      ['drop', 'enforce', 'ignore'] as const,
      'drop',
      'What happens to a client that talks before the greeting (a spam robot): drop the connection, enforce (refuse its mail, logging the sender and recipients), or ignore',
    ),
    dnsblSites: list(
      dnsblSite,
      ['zen.spamhaus.org=127.0.0.[2..11]*3', 'bl.spamcop.net=127.0.0.2*2', 'bl.mailspike.net=127.0.0.[10..14]*1', 'list.dnswl.org=127.0.[0..255].[1..3]*-3'],
      'DNS lists postscreen asks about each new client, with weights (negative for allow lists such as DNSWL); empty for none. Spamhaus, SpamCop, Mailspike and DNSWL are free for small sites (Spamhaus: non-commercial or under 100,000 queries a day) and refuse queries sent through big public resolvers',
    ),
    dnsblThreshold: whole(3, 'Sum of the DNS lists’ weights at which a client is refused', 1, 100),
    connectionsPerClient: whole(30, 'Connections one client may hold open at once (the allowed networks are exempt from these limits)', 1, 10000),
    connectionRatePerClient: whole(120, 'Connections one client may open per minute', 1, 100000),
    messageRatePerClient: whole(300, 'Messages one client may send per minute', 1, 100000),
    recipientRatePerClient: whole(1000, 'Recipients one client may name per minute', 1, 1000000),
    hardErrorLimit: whole(20, 'Errors after which a client is disconnected', 1, 1000),
    timeoutSeconds: whole(60, 'Seconds an SMTP client may stay silent before it is disconnected', 10, 3600),
    rejectUnknownSenderDomain: bool(true, 'Refuse mail whose sender domain has no DNS address or mail server'),
    verifyRecipients: bool(
      true,
      'In SMTP mode without the directory integration, ask the final server whether each recipient exists (cached) and refuse unknown ones at RCPT',
    ),
  },
  resolver: {
    local: bool(true, 'Resolve DNS with a local caching resolver (unbound) on the appliance; DNS lists refuse queries that come through big public resolvers'),
    forwardToNetworkDns: bool(
      true,
      'Have the local resolver ask the network’s DNS servers (network.dns1/dns2) when they are set, instead of resolving from the root servers itself (answer no when they are big public resolvers: DNS lists refuse those)',
    ),
  },
  auth: {
    authservId: text(
      '',
      'Name in the Authentication-Results header this appliance adds (blank: the host name); incoming ones with this name are removed as forged',
      { pattern: /^[a-z0-9.-]+$/i, what: 'a host name like mx.company.com' },
    ),
    dnsServer: text('', 'DNS server SPF, DKIM, DMARC and ARC are checked with (blank: the system resolver, the local unbound when resolver.local is on)', {
      pattern: /^[0-9a-f.:]+$/i,
      what: 'an IP address',
    }),
    dnsTimeoutSeconds: num(5, 'Seconds one DNS query of the authentication checks may take', { min: 1, max: 60 }),
    trustedArcSealers: list(
      domain('', 'a sealing domain'),
      ['google.com', 'microsoft.com'],
      'Domains whose ARC seal is trusted: their chain, when it validates and its earlier results passed, overrides a DMARC fail caused by forwarding (mailing lists, forwarding at Google or Microsoft 365)',
    ),
  },
  dkim: {
    enabled: bool(false, 'DKIM-sign mail from the allowed networks whose From: is the signing domain (or below it), as the filter re-injects it'),
    domain: text('', 'Signing domain, d= (blank: mail.externalDomain)', { pattern: /^[a-z0-9.-]+\.[a-z0-9-]+$/i, what: 'a domain like company.com' }),
    selector: text('mailfilter', 'Selector, s=: the key is published at <selector>._domainkey.<domain>', {
      pattern: /^[a-z0-9][a-z0-9-]{0,62}$/i,
      what: 'a DNS label like mailfilter',
    }),
    algorithm: oneOf(
      ['rsa', 'ed25519'] as const,
      'rsa',
      'Type of the key apply makes: rsa (RSA-2048, verified by every receiver) or ed25519 (RFC 8463, a short record, but not every receiver verifies it yet)',
    ),
    keyFile: text(
      '',
      'Private key (PEM, RSA or Ed25519; its type decides the algorithm); blank: /etc/mailfilter/dkim/<selector>.<algorithm>.pem, made by apply',
    ),
  },
  greylist: {
    listenHost: text('127.0.0.1', 'Address the greylisting policy service listens on for Postfix'),
    listenPort: port(10023, 'Port of the greylisting policy service'),
    enabled: bool(
      false,
      'Greylist unknown senders at RCPT (450 4.7.1, accepted when they retry after the delay); spared: the allowed networks, allow-listed senders, and senders whose SPF passes',
    ),
    delaySeconds: whole(300, 'Seconds a new client, sender and recipient must wait before a retry is accepted', 1, 86400),
    autoAllowAfter: whole(5, 'Retries passed after which a client network is no longer greylisted', 1, 1000),
    expiryDays: whole(35, 'Days an unretried or unused greylist entry is kept', 1, 365),
    stateFile: text(
      '/var/lib/mailfilter/greylist.sqlite',
      'Greylisting state (SQLite); with storage.backend postgresql it is kept in the shared database instead',
    ),
  },
  clamd: {
    socket: text('/run/clamav/clamd.ctl', 'clamd local socket (blank to use host and port)'),
    host: text('127.0.0.1', 'clamd TCP host, used when socket is blank'),
    port: port(3310, 'clamd TCP port'),
    timeoutSeconds: num(120, 'Seconds to wait for a clamd verdict', { min: 1, max: 3600 }),
  },
  spamd: {
    host: text('127.0.0.1', 'spamd host'),
    port: port(783, 'spamd port'),
    timeoutSeconds: num(120, 'Seconds to wait for a spamd verdict', { min: 1, max: 3600 }),
    maxTimeouts: whole(
      3,
      'Times spamd may time out on the same message (each a deferral) before it is decided without a spam verdict, marked "timed out" in X-Spam-Status',
      1,
      100,
    ),
  },
} satisfies Record<string, Record<string, Field<unknown>>>;

type Schema = typeof schema;
type SectionValues<S> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };
export type AppConfig = { [K in keyof Schema]: SectionValues<Schema[K]> };
export type PolicyConfig = AppConfig['policy'];
