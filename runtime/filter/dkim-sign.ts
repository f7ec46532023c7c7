// DKIM signing of our own outgoing mail as the filter re-injects it: only mail from the allowed
// networks whose From: is the signing domain or below it (never someone else's mail passing through).
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { dkimSign } from 'mailauth';
import { dkimKeyType } from '../checks/auth-dkim-key.js';

export interface DkimSigner {
  domain: string;
  /** Whether mail with this From: domain from this client is ours to sign. */
  applies(fromDomain: string, clientAddress: string): boolean;
  /** The DKIM-Signature header lines for the message, to go on top of it. */
  sign(message: Readable): Promise<string>;
}

export function openDkimSigner(options: { domain: string; selector: string; keyFile: string; inside: (address: string) => boolean }): DkimSigner {
  const privateKey = readFileSync(options.keyFile, 'utf8');
  const algorithm = dkimKeyType(privateKey) === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256';
  const domain = options.domain.toLowerCase();
  return {
    domain,
    applies: (fromDomain, clientAddress) => options.inside(clientAddress) && (fromDomain === domain || fromDomain.endsWith(`.${domain}`)),
    async sign(message) {
      // mailauth takes the keys to sign with in signatureData; the top-level fields are its defaults.
      const key = { signingDomain: domain, selector: options.selector, privateKey, algorithm, canonicalization: 'relaxed/relaxed' };
      const result = await dkimSign(message, { ...key, signatureData: [key] });
      if (result.errors.length > 0 || !result.signatures.trim())
        throw new Error(`DKIM signing failed: ${result.errors.map((e) => e.message).join('; ') || 'no signature made'}`);
      return result.signatures;
    },
  };
}
