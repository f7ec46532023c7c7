// The appliance's TLS certificate, shared by the viewer (HTTPS) and Postfix (STARTTLS on port 25):
// the files the admin names, or a self-signed one made once for the host name.
import { existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import { logger } from '../log.js';

const log = logger('tls');

export interface CertificateFiles {
  cert: string;
  key: string;
}

/** Where the viewer's certificate is: configured, or the self-signed one in its data folder. */
export function viewerCertificatePaths(config: AppConfig): CertificateFiles {
  if (config.viewer.tlsCert) return { cert: config.viewer.tlsCert, key: config.viewer.tlsKey };
  const dir = join(config.viewer.dataDir, 'tls');
  return { cert: join(dir, 'viewer.crt'), key: join(dir, 'viewer.key') };
}

/** Where Postfix's certificate is: its own when configured, else the viewer's. Pure, for rendering. */
export function smtpCertificatePaths(config: AppConfig): CertificateFiles {
  if (config.postfix.tlsCert) return { cert: config.postfix.tlsCert, key: config.postfix.tlsKey };
  return viewerCertificatePaths(config);
}

/** The viewer's certificate files, making the self-signed one when none is configured or made yet. */
export function tlsFiles(config: AppConfig): CertificateFiles {
  const files = viewerCertificatePaths(config);
  if (config.viewer.tlsCert || (existsSync(files.cert) && existsSync(files.key))) return files;
  mkdirSync(join(config.viewer.dataDir, 'tls'), { recursive: true, mode: 0o700 });
  const name = config.network.hostname;
  const ip = config.network.address ? `,IP:${config.network.address}` : '';
  makeSelfSigned(files, name, 3650, { altNames: `DNS:${name},DNS:localhost,IP:127.0.0.1${ip}` });
  log.info('made a self-signed certificate', { cert: files.cert, name });
  return files;
}

/** A self-signed RSA-2048 certificate for this name, valid for `days`, and its key (unencrypted unless keyArgs say otherwise). */
export function makeSelfSigned(files: CertificateFiles, name: string, days: number, more: { altNames?: string; keyArgs?: string[] } = {}): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      ...(more.keyArgs ?? ['-nodes']),
      '-days',
      String(days),
      '-subj',
      `/CN=${name}`,
      ...(more.altNames ? ['-addext', `subjectAltName=${more.altNames}`] : []),
      '-keyout',
      files.key,
      '-out',
      files.cert,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** Postfix's certificate files, making the shared self-signed one when Postfix has none of its own. */
export function smtpTlsFiles(config: AppConfig): CertificateFiles {
  return config.postfix.tlsCert ? smtpCertificatePaths(config) : tlsFiles(config);
}
