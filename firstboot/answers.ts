// The wizard's answers, in the wizard's own words, and how they become the appliance config.
// Saved beside the config so a re-run offers them as defaults.
import { existsSync, readFileSync } from 'node:fs';
import { schema, type AppConfig } from '../runtime/config/schema.js';
import type { Destiny, Field } from '../runtime/config/fields.js';
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
  /** DKIM-sign outgoing mail from the allowed networks, with the key apply makes. */
  dkimSign: boolean;
  dkimSelector: string;
  dkimAlgorithm: 'rsa' | 'ed25519';
  /** postscreen's DNS lists (door.dnsblSites); empty for none. */
  dnsLists: string[];
  verifyRecipients: boolean;
  /** The certificate and key offered with STARTTLS on port 25 (postfix.tlsCert/tlsKey); '' for the self-signed one. */
  tlsCert: string;
  tlsKey: string;
  /** TLS to the final server (postfix.outboundTls), and the CA that verifies it ('' for the system's). */
  outboundTls: 'may' | 'verify';
  outboundCaFile: string;
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
  /** Share the quarantine with other appliances in one PostgreSQL (storage.backend postgresql). */
  sharedStorage: boolean;
  storageCaFile: string;
  storageUrl: string;
}

/** The setting each answer fills: its default, range and help are the schema's. */
export const ANSWER_SETTINGS = {
  dhcp: schema.network.dhcp,
  address: schema.network.address,
  netmask: schema.network.netmask,
  gateway: schema.network.gateway,
  dns1: schema.network.dns1,
  dns2: schema.network.dns2,
  mode: schema.mail.mode,
  keep: schema.fetch.keep,
  externalDomain: schema.mail.externalDomain,
  internalDomain: schema.mail.internalDomain,
  finalServer: schema.mail.finalServer,
  relayDomains: schema.mail.relayDomains,
  allowedNetworks: schema.mail.allowedNetworks,
  dkimSign: schema.dkim.enabled,
  dkimSelector: schema.dkim.selector,
  dkimAlgorithm: schema.dkim.algorithm,
  dnsLists: schema.door.dnsblSites,
  verifyRecipients: schema.door.verifyRecipients,
  tlsCert: schema.postfix.tlsCert,
  tlsKey: schema.postfix.tlsKey,
  outboundTls: schema.postfix.outboundTls,
  outboundCaFile: schema.postfix.outboundCaFile,
  spamDestiny: schema.policy.spamDestiny,
  virusDestiny: schema.policy.virusDestiny,
  bannedDestiny: schema.policy.bannedDestiny,
  uncheckedDestiny: schema.policy.uncheckedDestiny,
  spoofedDestiny: schema.policy.spoofedDestiny,
  badHeaderDestiny: schema.policy.badHeaderDestiny,
  spamLevel: schema.policy.spamLevel,
  allowBannedInArchives: schema.policy.allowBannedInArchives,
  saMaxBodySize: schema.policy.saMaxBodySize,
  quarantineMaxMb: schema.quarantine.maxSizeMb,
  extraRules: schema.policy.extraRules,
  viewerEnabled: schema.viewer.enabled,
  ldapServer: schema.directory.server,
  ldapUser: schema.directory.bindUser,
  ldapPassword: schema.directory.bindPassword,
  ldapBaseDn: schema.directory.baseDn,
  storageCaFile: schema.storage.caFile,
  storageUrl: schema.storage.url,
} satisfies { [K in keyof Answers]?: Field<Answers[K]> };

/** Answers with no setting of their own, or whose 2006 default is not the config's. */
export const WIZARD_OWN_DEFAULTS = {
  // The manual offers none ("[]"): the admin names the appliance.
  hostname: '',
  // The manual's "[yes]"; a config written without the wizard has no directory to ask.
  exchange: true,
  enterAccounts: false,
  fetchServers: [] as FetchServerAnswer[],
  wideNetworksConfirmed: '',
  // An appliance alone unless the admin says otherwise (the config's storage.backend sqlite).
  sharedStorage: false,
};

type DefaultsOf<M> = { -readonly [K in keyof M]: M[K] extends Field<infer T> ? T : never };

/** The 2006 wizard's defaults, before anything was answered. */
export function defaultAnswers(): Answers {
  const fromSchema = Object.fromEntries(Object.entries(ANSWER_SETTINGS).map(([id, setting]) => [id, setting.default])) as DefaultsOf<typeof ANSWER_SETTINGS>;
  // A copy: answers are edited in place, the schema's defaults must stay as declared.
  return structuredClone({ ...fromSchema, ...WIZARD_OWN_DEFAULTS });
}

export function loadSavedAnswers(path: string): Answers {
  if (!existsSync(path)) return defaultAnswers();
  try {
    return { ...defaultAnswers(), ...(JSON.parse(readFileSync(path, 'utf8')) as Partial<Answers>) };
  } catch {
    return defaultAnswers();
  }
}

/**
 * The storage answers are the config's: `mailfilter cluster join` and `leave` change it after the
 * wizard ran, and a later run must offer what the node does now, not what was answered then.
 */
export function storageAnswers(config: AppConfig): Pick<Answers, 'sharedStorage' | 'storageUrl' | 'storageCaFile'> {
  return { sharedStorage: config.storage.backend === 'postgresql', storageUrl: config.storage.url, storageCaFile: config.storage.caFile };
}

/** The DKIM settings the answers make, without checking the rest of them (the review shows while answers may still be incomplete). */
export function answersDkim(a: Answers, base: AppConfig): Pick<AppConfig, 'dkim' | 'mail'> {
  return {
    dkim: { ...base.dkim, enabled: a.dkimSign, selector: a.dkimSelector, algorithm: a.dkimAlgorithm },
    mail: { ...base.mail, externalDomain: a.externalDomain },
  };
}

/** The appliance config these answers make; settings the wizard does not ask keep `base`'s values. */
export function answersToConfig(answers: Answers, base: AppConfig): AppConfig {
  const smtpMode = answers.mode === 'smtp';
  const exchange = answers.exchange;
  return parseConfig(
    {
      ...base,
      network: {
        hostname: answers.hostname,
        dhcp: answers.dhcp,
        address: answers.dhcp ? '' : answers.address,
        netmask: answers.dhcp ? '' : answers.netmask,
        gateway: answers.dhcp ? '' : answers.gateway,
        dns1: answers.dhcp ? '' : answers.dns1,
        dns2: answers.dhcp ? '' : answers.dns2,
      },
      mail: {
        ...base.mail,
        mode: answers.mode,
        externalDomain: answers.externalDomain,
        internalDomain: answers.internalDomain,
        finalServer: answers.finalServer,
        relayDomains: answers.relayDomains,
        allowedNetworks: answers.allowedNetworks,
      },
      fetch: { ...base.fetch, keep: smtpMode ? base.fetch.keep : answers.keep },
      policy: {
        ...base.policy,
        spamDestiny: answers.spamDestiny,
        virusDestiny: answers.virusDestiny,
        bannedDestiny: answers.bannedDestiny,
        uncheckedDestiny: answers.uncheckedDestiny,
        spoofedDestiny: answers.spoofedDestiny,
        badHeaderDestiny: answers.badHeaderDestiny,
        spamLevel: answers.spamLevel,
        allowBannedInArchives: answers.allowBannedInArchives,
        saMaxBodySize: answers.saMaxBodySize,
        extraRules: answers.extraRules,
      },
      quarantine: { ...base.quarantine, maxSizeMb: answers.quarantineMaxMb },
      dkim: answersDkim(answers, base).dkim,
      postfix: {
        ...base.postfix,
        tlsCert: answers.tlsCert,
        tlsKey: answers.tlsKey,
        outboundTls: answers.outboundTls,
        outboundCaFile: answers.outboundCaFile,
      },
      door: { ...base.door, dnsblSites: answers.dnsLists, verifyRecipients: answers.verifyRecipients },
      viewer: { ...base.viewer, enabled: answers.viewerEnabled, loginMethod: exchange && answers.viewerEnabled ? 'ldap' : 'local' },
      // No: this appliance alone; a connection string already there stays for `storage migrate`.
      storage: answers.sharedStorage
        ? { backend: 'postgresql', url: answers.storageUrl, caFile: answers.storageCaFile }
        : { ...base.storage, backend: 'sqlite' },
      directory: exchange
        ? {
            ...base.directory,
            enabled: true,
            server: answers.ldapServer,
            bindUser: answers.ldapUser,
            bindPassword: answers.ldapPassword,
            baseDn: answers.ldapBaseDn,
          }
        : { ...base.directory, enabled: false },
    },
    'the wizard’s answers',
  );
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
