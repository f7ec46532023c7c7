// DKIM keys for signing our own outgoing mail: made as RSA-2048 or Ed25519, and the DNS TXT record
// (RFC 6376, RFC 8463) the organisation publishes at <selector>._domainkey.<domain>.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

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
