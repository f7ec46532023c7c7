// What the config templates are filled with: every value derived from the appliance config here,
// so templates stay plain text with {{name}} placeholders an admin can read.
import type { AppConfig } from '../config/schema.js';
import { parsePostgresUrl } from '../config/fields.js';
import { smtpCertificatePaths } from '../tls/certificate.js';
import { intToIpv4, ipv4ToInt } from '../net/ipv4.js';

/** 192.168.100.2 + 255.255.255.0 -> 192.168.100.0/24 */
export function subnetOf(address: string, netmask: string): string {
  const mask = ipv4ToInt(netmask);
  const bits = mask.toString(2).replace(/0+$/, '').length;
  return `${intToIpv4(ipv4ToInt(address) & mask)}/${bits}`;
}

export function mynetworks(config: AppConfig): string {
  const { allowedNetworks } = config.mail;
  const { address, netmask, dhcp } = config.network;
  // Only this host's own loopback address: the filter re-injects on a listener of its own.
  const loopback = ['127.0.0.1/32'];
  if (allowedNetworks[0] === 'host') return [...loopback, ...(address && !dhcp ? [`${address}/32`] : [])].join(' ');
  if (allowedNetworks[0] === 'subnet') {
    // With DHCP the subnet is unknown when rendering; the wizard asks for a list in that case.
    return [...loopback, ...(address && netmask && !dhcp ? [subnetOf(address, netmask)] : [])].join(' ');
  }
  return [...loopback, ...allowedNetworks].join(' ');
}

export function relayDomains(config: AppConfig): string[] {
  const { relayDomains: listed, externalDomain, internalDomain } = config.mail;
  const domains = listed.length > 0 ? listed : [externalDomain, internalDomain];
  return [...new Set(domains.filter(Boolean).map((d) => d.toLowerCase()))];
}

export function postfixValues(config: AppConfig): Record<string, string> {
  const { network, mail, filter, postfix } = config;
  const nextHop = mail.finalServer ? `smtp:[${mail.finalServer}]:${mail.finalServerPort}` : 'error:5.3.0 no final mail server is configured';
  const domains = relayDomains(config);
  return {
    hostname: network.hostname,
    domain: network.hostname.includes('.') ? network.hostname.slice(network.hostname.indexOf('.') + 1) : network.hostname,
    config_dir: postfix.configDir,
    allowed_networks_answer: mail.allowedNetworks.join(', '),
    mynetworks: mynetworks(config),
    relay_domains: domains.join(', ') || '(none)',
    relay_recipient_maps: config.directory.enabled
      ? `relay_recipient_maps = hash:${postfix.configDir}/exchange_recipients`
      : '# relay_recipient_maps: set by Exchange/LDAP integration when enabled',
    filter_host: filter.listenHost,
    filter_port: String(filter.listenPort),
    filter_connections: String(filter.maxConnections),
    message_size_limit: String(filter.maxMessageBytes),
    reinject_host: postfix.reinjectHost,
    reinject_port: String(postfix.reinjectPort),
    transport_entries: domains.length ? domains.map((d) => `${d.padEnd(30)} ${nextHop}`).join('\n') : '# no relay domains configured',
    ...doorValues(config),
    ...tlsValues(config),
  };
}

/** Address verification applies in SMTP mode when no directory lists the recipients. */
export function verifiesRecipients(config: AppConfig): boolean {
  return config.door.verifyRecipients && config.mail.mode === 'smtp' && !config.directory.enabled;
}

const yes = (on: boolean) => (on ? 'yes' : 'no');

/** Port 25's listener: postscreen handing clients that pass to smtpd, or smtpd alone. */
function smtpListener(config: AppConfig): string {
  const service = (config.postfix.smtpPort === 25 ? 'smtp' : String(config.postfix.smtpPort)).padEnd(9);
  if (!config.door.postscreen) return `${service} inet  n       -       n       -       -       smtpd`;
  return [
    `${service} inet  n       -       n       -       1       postscreen`,
    'smtpd     pass  -       -       n       -       -       smtpd',
    'dnsblog   unix  -       -       n       -       0       dnsblog',
    'tlsproxy  unix  -       -       n       -       0       tlsproxy',
  ].join('\n');
}

export function doorValues(config: AppConfig): Record<string, string> {
  const { door } = config;
  const verify = verifiesRecipients(config);
  const checks = [...(door.rejectUnknownSenderDomain ? ['reject_unknown_sender_domain'] : []), ...(verify ? ['reject_unverified_recipient'] : [])];
  const notes = [...(verify ? [' and recipients the final server knows'] : [])];
  return {
    recipient_checks: checks.map((c) => `, ${c}`).join(''),
    recipient_check_note: notes.join(''),
    verify_recipients_answer: verify ? 'yes' : door.verifyRecipients ? 'yes, but off: the directory or fetchmail mode decides' : 'no',
    connections_per_client: String(door.connectionsPerClient),
    connection_rate_per_client: String(door.connectionRatePerClient),
    message_rate_per_client: String(door.messageRatePerClient),
    recipient_rate_per_client: String(door.recipientRatePerClient),
    hard_error_limit: String(door.hardErrorLimit),
    smtpd_timeout: `${door.timeoutSeconds}s`,
    postscreen_answer: yes(door.postscreen),
    pregreet_action: door.pregreetAction,
    dnsbl_sites: door.dnsblSites.join(', '),
    dnsbl_threshold: String(door.dnsblThreshold),
    smtp_listener: smtpListener(config),
    greylist_check: config.greylist.enabled ? `, check_policy_service inet:${config.greylist.listenHost}:${config.greylist.listenPort}` : '',
    greylist_answer: yes(config.greylist.enabled),
  };
}

export function tlsValues(config: AppConfig): Record<string, string> {
  const { postfix, mail } = config;
  const cert = smtpCertificatePaths(config);
  const verify = postfix.outboundTls === 'verify' && mail.finalServer !== '';
  return {
    tls_cert_file: cert.cert,
    tls_key_file: cert.key,
    outbound_tls_note: verify ? `it is required and verified (postfix.outboundTls: verify)` : 'the same (postfix.outboundTls: may)',
    smtp_tls_policy_maps: verify
      ? `smtp_tls_policy_maps = inline:{ {[${mail.finalServer}]:${mail.finalServerPort} = verify} }`
      : '# smtp_tls_policy_maps: none, opportunistic everywhere',
    smtp_tls_ca: postfix.outboundCaFile ? `smtp_tls_CAfile = ${postfix.outboundCaFile}` : 'smtp_tls_CApath = /etc/ssl/certs',
  };
}

/** SpamAssassin's Bayes in the shared PostgreSQL: DBI's connection with libpq's TLS settings. */
export function bayesSqlLines(config: AppConfig): string[] {
  const { storage } = config;
  if (storage.backend !== 'postgresql') return ['# (the files: nothing to set)'];
  const url = parsePostgresUrl(storage.url);
  // libpq verifies the server's name and certificate (verify-full) as the runtime's pool does.
  const tls = url.plain ? 'sslmode=disable' : `sslmode=verify-full${storage.caFile ? `;sslrootcert=${storage.caFile}` : ''}`;
  return [
    'bayes_store_module Mail::SpamAssassin::BayesStore::PgSQL',
    `bayes_sql_dsn DBI:Pg:dbname=${url.database};host=${url.host};port=${url.port};${tls}`,
    `bayes_sql_username ${url.user}`,
    `bayes_sql_password ${url.password}`,
    // One Bayes store for every recipient, as the files are: learning is the whole site's.
    'bayes_sql_override_username mailfilter',
  ];
}

export function scannerValues(config: AppConfig): Record<string, string> {
  const streamMb = Math.ceil(config.filter.maxMessageBytes / 1048576) + 8;
  return {
    clamd_socket: config.clamd.socket || '/run/clamav/clamd.ctl',
    clamd_stream_max_mb: String(streamMb),
    clamd_scan_max_mb: String(streamMb * 4),
    spam_level: String(config.policy.spamLevel),
    storage_backend: config.storage.backend,
    bayes_sql: bayesSqlLines(config).join('\n'),
    extra_channels: config.policy.extraRules ? 'kam.sa-channels.mcgrail.com' : '# extra rules are off (wizard: "Use extra spam checking rules?")',
    extra_rules_note: config.policy.extraRules ? ' and the extra KAM channel' : ' only',
  };
}

export function networkValues(config: AppConfig): Record<string, string> {
  const { network } = config;
  const block = network.dhcp
    ? `iface ${network.interface} inet dhcp`
    : [
        `iface ${network.interface} inet static`,
        `    address ${network.address}`,
        `    netmask ${network.netmask}`,
        ...(network.gateway ? [`    gateway ${network.gateway}`] : []),
      ].join('\n');
  return {
    short_hostname: network.hostname.split('.')[0]!,
    host_address: network.dhcp || !network.address ? '127.0.1.1' : network.address,
    interface: network.interface,
    interface_block: block,
    nameservers: config.resolver.local
      ? 'nameserver 127.0.0.1'
      : [network.dns1, network.dns2]
          .filter(Boolean)
          .map((ns) => `nameserver ${ns}`)
          .join('\n') || '# no DNS server configured',
  };
}

/** The firewall's open ports and the time servers: what the appliance itself needs. */
export function systemValues(config: AppConfig): Record<string, string> {
  const { viewer, network } = config;
  const ports = [22, config.postfix.smtpPort, ...(viewer.enabled ? [viewer.httpPort, viewer.httpsPort] : [])].filter((p) => p > 0);
  // The DNS servers the wizard was given often serve time too; the Debian pool is the fallback.
  const ntp = network.dhcp ? [] : [network.dns1, network.dns2].filter(Boolean);
  return {
    firewall_tcp_ports: [...new Set(ports)].join(', '),
    ntp_servers: ntp.length ? `NTP=${ntp.join(' ')}` : '# NTP= none configured (DHCP): the fallback pool below is used',
  };
}

/** The local resolver: the network's DNS servers as forwarders when wanted and known, else the root servers. */
export function resolverValues(config: AppConfig): Record<string, string> {
  const { resolver, network } = config;
  const forwarders = resolver.forwardToNetworkDns && !network.dhcp ? [network.dns1, network.dns2].filter(Boolean) : [];
  const forwarding = forwarders.length
    ? [
        '    # Forwarders may strip DNSSEC records: validating would fail every answer, so it is left to them.',
        '    module-config: "iterator"',
        '',
        "# The network's DNS servers (network.dns1/dns2) answer; resolver.forwardToNetworkDns: no resolves directly.",
        'forward-zone:',
        '    name: "."',
        ...forwarders.map((address) => `    forward-addr: ${address}`),
      ]
    : ['# No forwarders: unbound resolves from the root servers itself, with DNSSEC validation.'];
  return {
    resolver_local_answer: resolver.local ? 'yes' : 'no',
    resolver_forwarding: forwarding.join('\n'),
    dhcp_resolver_hook: resolver.local ? 'new_domain_name_servers="127.0.0.1"' : "# resolver.local is off: the DHCP server's DNS servers are used",
  };
}

export function templateValues(config: AppConfig): Record<string, string> {
  return { ...postfixValues(config), ...scannerValues(config), ...networkValues(config), ...systemValues(config), ...resolverValues(config) };
}
