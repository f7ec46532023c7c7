// A viewer of its own for a test file: fresh quarantine and accounts, a re-injector that only
// records what it was given, and a cookie-keeping client (test/support/viewer-browser.ts) that calls
// app.request() in-process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../runtime/config/load.js';
import { QuarantineStore, type QuarantineInput } from '../../../runtime/quarantine/store.js';
import { ViewerAccounts } from '../../../runtime/accounts/viewer-accounts.js';
import { openViewerDb } from '../../../runtime/storage/open-viewer.js';
import { localAuthenticator } from '../../../runtime/accounts/authenticate.js';
import { createViewerApp } from '../../../runtime/viewer/app.js';
import type { Reinjector } from '../../../runtime/mail/reinject.js';
import { assembleActionServices, type ActionServices } from '../../../runtime/actions/services.js';
import type { Authenticate } from '../../../runtime/accounts/authenticate.js';
import { freePort } from '../../support/net.js';
import { ViewerBrowser, type Page } from '../../support/viewer-browser.js';

export interface Sent {
  from: string;
  to: string[];
  raw: string;
}

export interface TestViewer {
  dir: string;
  app: ReturnType<typeof createViewerApp>;
  services: ActionServices;
  /** Everything handed to the re-injector: releases, notices, digests. */
  sent: Sent[];
  addMessage(input: Partial<QuarantineInput> & { id: string; recipients: string[] }, raw?: string): Promise<void>;
  browser(ip?: string): TestBrowser;
}

export interface TestViewerOptions {
  viewer?: Record<string, unknown>;
  directory?: Record<string, unknown>;
  /** DKIM signing (the console shows its record); the signing domain is company.com. */
  dkim?: Record<string, unknown>;
  /** How the login checks passwords; local accounts by default. */
  authenticate?: (services: ActionServices) => Authenticate;
  sessionMaxHours?: number;
}

export async function startTestViewer(options: TestViewerOptions = {}): Promise<TestViewer> {
  const dir = mkdtempSync(join(tmpdir(), 'viewer-'));
  // Every folder inside `dir`: nothing of this machine's own is touched.
  const config = parseConfig({
    quarantine: { dir: join(dir, 'q') },
    fetch: { stateDir: join(dir, 'fetch') },
    viewer: { ...options.viewer, dataDir: join(dir, 'v') },
    spamd: { port: await freePort(), timeoutSeconds: 2 },
    ...(options.directory ? { directory: options.directory } : {}),
    ...(options.dkim ? { dkim: options.dkim, mail: { externalDomain: 'company.com' } } : {}),
  });
  const store = QuarantineStore.open(config.quarantine.dir, 100);
  const viewerDb = await openViewerDb(config, null);
  const accounts = await ViewerAccounts.open(viewerDb.db, 8, options.sessionMaxHours ?? 24);
  const sent: Sent[] = [];
  const reinjector: Reinjector = {
    async send(from, to, message) {
      const chunks: Buffer[] = [];
      for await (const chunk of message) chunks.push(Buffer.from(chunk as Uint8Array));
      sent.push({ from, to, raw: Buffer.concat(chunks).toString('utf8') });
      return to.map((recipient) => ({ recipient, code: 250, response: '250 ok' }));
    },
    close() {},
  };
  const services = assembleActionServices({ config, store, viewerDb, accounts, reinjector });
  const app = createViewerApp({ ...services, authenticate: options.authenticate ? options.authenticate(services) : localAuthenticator(accounts) });
  let n = 0;
  return {
    dir,
    app,
    services,
    sent,
    async addMessage(input, raw = `From: ${input.headerFrom ?? 'x@example.net'}\r\nSubject: ${input.subject ?? 'hi'}\r\n\r\nbody\r\n`) {
      const spool = join(dir, `spool-${++n}.eml`);
      writeFileSync(spool, raw);
      await store.add(spool, {
        receivedAt: new Date(),
        mailFrom: 'x@example.net',
        headerFrom: 'x@example.net',
        headerTo: input.recipients.join(', '),
        subject: `subject ${input.id}`,
        reason: 'SPAM',
        detail: 'score=9',
        size: Buffer.byteLength(raw),
        ...input,
      });
    },
    browser: (ip = '10.0.0.1') => new TestBrowser(app, ip),
  };
}

export type { Page };

/** The viewer's app called in-process, from the client address `ip`. */
export class TestBrowser extends ViewerBrowser {
  constructor(
    app: TestViewer['app'],
    readonly ip: string,
  ) {
    super(async (path, init) => app.request(`https://mx.company.com${path}`, init, { incoming: { socket: { remoteAddress: ip } } }));
  }
}
