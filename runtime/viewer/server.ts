// `mailfilter viewer`: the viewer over HTTPS only (a self-signed certificate is made when none is
// configured), and a plain HTTP listener that only redirects to it.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { tlsFiles } from '../tls/certificate.js';
import { serve } from '@hono/node-server';
import type { AppConfig } from '../config/schema.js';
import { logger } from '../log.js';
import { openActionServices, viewerBaseUrl } from '../actions/services.js';
import type { ViewerAccounts } from '../accounts/viewer-accounts.js';
import { localAuthenticator } from '../accounts/authenticate.js';
import { createViewerApp } from './app.js';
import { directoryAuthenticator } from '../ldap/login.js';

const log = logger('viewer');

export interface RunningViewer {
  httpsPort: number;
  httpPort: number;
  accounts: ViewerAccounts;
  close(): Promise<void>;
}

// The certificate maker moved to runtime/tls/ (Postfix's STARTTLS shares it); re-exported for callers.

function listenPort(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

export async function startViewer(config: AppConfig): Promise<RunningViewer> {
  const { viewer } = config;
  const services = await openActionServices(config);
  const { accounts } = services;
  const local = localAuthenticator(accounts);
  const authenticate = viewer.loginMethod === 'ldap' ? directoryAuthenticator(config, accounts, local, log, services.audit) : local;
  const app = createViewerApp({ ...services, authenticate });
  const files = tlsFiles(config);
  const https = serve({
    fetch: app.fetch,
    port: viewer.httpsPort,
    hostname: viewer.listenAddress,
    createServer: createHttpsServer,
    serverOptions: { cert: readFileSync(files.cert), key: readFileSync(files.key) },
  }) as Server;
  await new Promise<void>((resolve, reject) => (https.listening ? resolve() : https.once('listening', resolve).once('error', reject)));
  const httpsPort = listenPort(https);
  let http: Server | null = null;
  if (viewer.httpPort !== 0) {
    // The request's Host header is the sender's to choose: the redirect goes to our own name only.
    const location = `${viewerBaseUrl({ ...config, viewer: { ...viewer, httpsPort } })}/`;
    http = createHttpServer((_req, res) => {
      res.writeHead(301, { Location: location }).end();
    });
    await new Promise<void>((resolve, reject) => http!.once('error', reject).listen(viewer.httpPort, viewer.listenAddress, resolve));
  }
  log.info('listening', { https: `${viewer.listenAddress}:${httpsPort}`, http_redirect: http ? `${viewer.listenAddress}:${listenPort(http)}` : 'off' });
  return {
    httpsPort,
    httpPort: http ? listenPort(http) : 0,
    accounts,
    async close() {
      await new Promise<void>((resolve) => https.close(() => resolve()));
      if (http) await new Promise<void>((resolve) => http!.close(() => resolve()));
      await services.close();
    },
  };
}
