// The wizard's answers, in the wizard's own words, and how they become the appliance config.
// Saved beside the config so a re-run offers them as defaults.
import { existsSync, readFileSync } from 'node:fs';
import { schema, type AppConfig } from '../runtime/config/schema.js';
import type { Destiny } from '../runtime/config/fields.js';
import { parseConfig } from '../runtime/config/load.js';

export interface FetchServerAnswer {
  host: string;
  protocol: 'pop3' | 'imap';
  accounts: Array<{ user: string; password: string; deliverTo: string }>;
}

export interface Answers {
  hostname: string;
  dhcp: boolean;
  address: string;
  netmask: string;
  gateway: string;
  dns1: string;
  dns2: string;
  mode: 'fetchmail' | 'smtp';
  enterAccounts: boolean;
  keep: boolean;
  fetchServers: FetchServerAnswer[];
  externalDomain: string;
  internalDomain: string;
  finalServer: string;
  relayDomains: string[];
  allowedNetworks: string[];
  /** The allowed networks the admin confirmed as wider than a /16 ('' when none were). */
  wideNetworksConfirmed: string;
  /** postscreen's DNS lists (door.dnsblSites); empty for none. */
  dnsLists: string[];
  verifyRecipients: boolean;
  spamDestiny: Destiny;
  virusDestiny: Destiny;
  bannedDestiny: Destiny;
  uncheckedDestiny: Destiny;
  spoofedDestiny: Destiny;
  badHeaderDestiny: Destiny;
  spamLevel: number;
  allowBannedInArchives: boolean;
  saMaxBodySize: number;
  quarantineMaxMb: number;
  extraRules: boolean;
  viewerEnabled: boolean;
  exchange: boolean;
  ldapServer: string;
  ldapUser: string;
  ldapPassword: string;
  ldapBaseDn: string;
}

/** The 2006 wizard's defaults, before anything was answered. */
export function defaultAnswers(): Answers {
  return {
    hostname: '', dhcp: false, address: '', netmask: '', gateway: '', dns1: '', dns2: '',
    mode: 'fetchmail', enterAccounts: false, keep: true, fetchServers: [],
    externalDomain: '', internalDomain: '', finalServer: '', relayDomains: [], allowedNetworks: [], wideNetworksConfirmed: '',
    dnsLists: [...schema.door.dnsblSites.default], verifyRecipients: schema.door.verifyRecipients.default,
    spamDestiny: 'D_PASS', virusDestiny: 'D_BOUNCE', bannedDestiny: 'D_BOUNCE', uncheckedDestiny: 'D_PASS', spoofedDestiny: schema.policy.spoofedDestiny.default, badHeaderDestiny: 'D_PASS',
    spamLevel: 6.31, allowBannedInArchives: false, saMaxBodySize: 524288, quarantineMaxMb: 500, extraRules: true,
    viewerEnabled: true, exchange: true, ldapServer: '', ldapUser: '', ldapPassword: '', ldapBaseDn: '',
  };
}

export function loadSavedAnswers(path: string): Answers {
  if (!existsSync(path)) return defaultAnswers();
  try {
    return { ...defaultAnswers(), ...(JSON.parse(readFileSync(path, 'utf8')) as Partial<Answers>) };
  } catch {
    return defaultAnswers();
  }
}

/** The appliance config these answers make; settings the wizard does not ask keep `base`'s values. */
export function answersToConfig(answers: Answers, base: AppConfig): AppConfig {
  const smtpMode = answers.mode === 'smtp';
  const exchange = answers.exchange;
  return parseConfig({
    ...base,
    network: { hostname: answers.hostname, dhcp: answers.dhcp, address: answers.dhcp ? '' : answers.address, netmask: answers.dhcp ? '' : answers.netmask, gateway: answers.dhcp ? '' : answers.gateway, dns1: answers.dhcp ? '' : answers.dns1, dns2: answers.dhcp ? '' : answers.dns2 },
    mail: { ...base.mail, mode: answers.mode, externalDomain: answers.externalDomain, internalDomain: answers.internalDomain, finalServer: answers.finalServer, relayDomains: answers.relayDomains, allowedNetworks: answers.allowedNetworks },
    fetch: { ...base.fetch, keep: smtpMode ? base.fetch.keep : answers.keep },
    policy: {
      ...base.policy,
      spamDestiny: answers.spamDestiny, virusDestiny: answers.virusDestiny, bannedDestiny: answers.bannedDestiny, uncheckedDestiny: answers.uncheckedDestiny, spoofedDestiny: answers.spoofedDestiny, badHeaderDestiny: answers.badHeaderDestiny,
      spamLevel: answers.spamLevel, allowBannedInArchives: answers.allowBannedInArchives, saMaxBodySize: answers.saMaxBodySize, extraRules: answers.extraRules,
    },
    quarantine: { ...base.quarantine, maxSizeMb: answers.quarantineMaxMb },
    door: { ...base.door, dnsblSites: answers.dnsLists, verifyRecipients: answers.verifyRecipients },
    viewer: { ...base.viewer, enabled: answers.viewerEnabled, loginMethod: exchange && answers.viewerEnabled ? 'ldap' : 'local' },
    directory: exchange
      ? { ...base.directory, enabled: true, server: answers.ldapServer, bindUser: answers.ldapUser, bindPassword: answers.ldapPassword, baseDn: answers.ldapBaseDn }
      : { ...base.directory, enabled: false },
  }, 'the wizard’s answers');
}

/** The fetch accounts file for the accounts typed into the wizard. */
export function accountsFile(answers: Answers): { servers: unknown[] } {
  return {
    servers: answers.fetchServers.map((server) => ({
      host: server.host,
      protocol: server.protocol,
      tls: 'implicit',
      accounts: server.accounts.map((a) => ({ user: a.user, password: a.password, deliverTo: a.deliverTo, keep: answers.keep })),
    })),
  };
}
