// DKIM keys for signing our own outgoing mail: made as RSA-2048 or Ed25519, and the DNS TXT record
// (RFC 6376, RFC 8463) the organisation publishes at <selector>._domainkey.<domain>.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AppConfig } from '../config/schema.js';

export type DkimKeyType = 'rsa' | 'ed25519';

export function makeDkimKey(type: DkimKeyType): string {
  const { privateKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function dkimKeyType(privateKeyPem: string): DkimKeyType {
  const type = createPrivateKey(privateKeyPem).asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ed25519') throw new Error(`a DKIM key is RSA or Ed25519, not ${type}`);
  return type;
}

/** The TXT record's text: for Ed25519 the bare 32-byte key (RFC 8463), for RSA the DER public key. */
export function dkimTxtRecord(privateKeyPem: string): string {
  const type = dkimKeyType(privateKeyPem);
  const publicKey: KeyObject = createPublicKey(privateKeyPem);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const p = type === 'ed25519' ? der.subarray(der.length - 32) : der;
  return `v=DKIM1; k=${type}; p=${p.toString('base64')}`;
}

export const dkimRecordName = (selector: string, domain: string) => `${selector}._domainkey.${domain}`;

export const DKIM_KEY_DIR = '/etc/mailfilter/dkim';

/** The key the filter signs with: dkim.keyFile, else one file per selector and type, so a new selector or type never overwrites a key whose record may still be published. */
export function dkimKeyPath(dkim: Pick<AppConfig['dkim'], 'keyFile' | 'selector' | 'algorithm'>): string {
  return dkim.keyFile || `${DKIM_KEY_DIR}/${dkim.selector}.${dkim.algorithm}.pem`;
}

/** d=: dkim.domain, else the external mail domain. */
export const dkimSigningDomain = (config: Pick<AppConfig, 'dkim' | 'mail'>) => (config.dkim.domain || config.mail.externalDomain).toLowerCase();

/** Makes the key at `path` (0600, its folder 0700) unless a key is there: an existing key is never replaced. */
export function ensureDkimKey(path: string, type: DkimKeyType): 'made' | 'kept' {
  if (existsSync(path)) return 'kept';
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // 'wx': of two applies at once, the second keeps the first's key rather than replacing it.
  try {
    writeFileSync(path, makeDkimKey(type), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'kept';
    throw err;
  }
  chmodSync(path, 0o600);
  return 'made';
}
