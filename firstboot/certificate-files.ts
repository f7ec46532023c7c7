// Checks of the certificate files the admin names in the wizard (STARTTLS on port 25, the CA that
// verifies the final server), run as they are typed: Postfix would otherwise start without TLS and
// say why only in its log. Each returns an error in plain words, or null.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

type Read<T> = { value: T; error?: undefined } | { value?: undefined; error: string };

function readText(path: string): Read<string> {
  if (!path.startsWith('/')) return { error: `Enter the file's full path, starting with / (like /etc/ssl/mx.crt).` };
  try {
    return { value: readFileSync(path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { error: `There is no file ${path}.` };
    if (code === 'EISDIR') return { error: `${path} is a folder: enter the certificate file in it.` };
    return { error: `${path} cannot be read (${code ?? (err as Error).message}).` };
  }
}

/** The first certificate in a PEM file (the server's own; intermediates follow it). */
function readCertificate(path: string): Read<X509Certificate> {
  const text = readText(path);
  if (text.error !== undefined) return text;
  try {
    return { value: new X509Certificate(text.value) };
  } catch {
    return { error: `${path} holds no PEM certificate (a file starting with -----BEGIN CERTIFICATE-----).` };
  }
}

const day = (date: string) => new Date(date).toISOString().slice(0, 10);

/** The word that stands for "no file of the admin's" in the wizard's certificate questions. */
export const NO_CERTIFICATE = 'none';
/** The word for "the public CAs the appliance knows" in the CA question. */
export const PUBLIC_CAS = 'public';

/** The certificate offered with STARTTLS: 'none' or blank (apply makes a self-signed one), or a valid one. */
export function certificateFile(path: string, now = new Date()): string | null {
  if (path.trim() === '' || path.trim().toLowerCase() === NO_CERTIFICATE) return null;
  const cert = readCertificate(path.trim());
  if (cert.error !== undefined) return cert.error;
  if (new Date(cert.value.validTo) <= now) return `The certificate in ${path.trim()} expired on ${day(cert.value.validTo)}: enter a current one.`;
  if (new Date(cert.value.validFrom) > now)
    return `The certificate in ${path.trim()} is valid only from ${day(cert.value.validFrom)}: check the clock, or enter another.`;
  return null;
}

/** The certificate's private key: unencrypted (Postfix starts unattended) and matching it. */
export function keyFile(path: string, certificatePath: string): string | null {
  if (path.trim() === '') return 'Enter the private key file of the certificate.';
  const text = readText(path.trim());
  if (text.error !== undefined) return text.error;
  // OpenSSL would ask for the passphrase on a terminal; the wizard's is in use.
  if (/-----BEGIN (ENCRYPTED PRIVATE KEY|[A-Z ]*PRIVATE KEY-----\r?\nProc-Type: 4,ENCRYPTED)/.test(text.value)) {
    return `The key in ${path.trim()} is protected by a passphrase: Postfix needs it without one (openssl pkey -in key -out new-key).`;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text.value);
  } catch {
    return `${path.trim()} holds no PEM private key (a file starting with -----BEGIN PRIVATE KEY-----).`;
  }
  const cert = readCertificate(certificatePath.trim());
  if (cert.error !== undefined) return cert.error;
  return cert.value.checkPrivateKey(key) ? null : `The key in ${path.trim()} does not belong to the certificate in ${certificatePath.trim()}.`;
}

/** The CA that verifies the final server: 'public' or blank (the system's CAs), or a PEM certificate file. */
export function caFile(path: string): string | null {
  if (path.trim() === '' || path.trim().toLowerCase() === PUBLIC_CAS) return null;
  const cert = readCertificate(path.trim());
  return cert.error ?? null;
}
