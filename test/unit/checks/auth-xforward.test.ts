// The client the auth check judges comes from Postfix's XFORWARD, which the filter's listener
// takes only from a loopback peer; a peer elsewhere cannot claim to be a client inside mynetworks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SMTPServer } from 'smtp-server';
import { listen } from '../../../runtime/filter/listen.js';
import type { SpooledMessage } from '../../../runtime/filter/pipeline.js';
import { logger } from '../../../runtime/log.js';

const dir = mkdtempSync(join(tmpdir(), 'xforward-'));
let server: SMTPServer | undefined;
after(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** One LMTP session from `localAddress`, line by line; the replies, in order. */
function session(port: number, localAddress: string, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '0.0.0.0', port, localAddress });
    let said = '';
    let next = 0;
    socket.on('data', (chunk) => {
      said += chunk.toString();
      const answers = said.split('\r\n').filter((l) => /^\d{3} /.test(l)).length;
      if (answers > next && next < lines.length) socket.write(`${lines[next++]}\r\n`);
      else if (answers > lines.length) socket.end();
    });
    socket.on('end', () => resolve(said));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer: ${said}`)));
  });
}

test('XFORWARD from loopback sets the client and HELO (the IPv6: prefix dropped); from elsewhere it is refused', { timeout: 30_000 }, async () => {
  const seen: SpooledMessage['envelope'][] = [];
  server = await listen({
    host: '0.0.0.0',
    port: 0,
    hostname: 'test',
    spoolDir: dir,
    maxMessageBytes: 1 << 20,
    maxConnections: 2,
    log: logger('test'),
    handle: async (message) => {
      seen.push(message.envelope);
      return message.envelope.rcptTo.map(() => '2.0.0 Ok');
    },
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const mail = ['MAIL FROM:<a@example.net>', 'RCPT TO:<bob@company.com>', 'DATA', 'Subject: x\r\n\r\nhi\r\n.', 'QUIT'];
  const trusted = await session(port, '127.0.0.1', ['LHLO postfix', 'XFORWARD ADDR=IPv6:2001:db8::7 HELO=mx.example.net', ...mail]);
  assert.match(trusted, /250 OK/);
  assert.deepEqual(seen[0] && [seen[0].clientAddress, seen[0].heloName], ['2001:db8::7', 'mx.example.net']);
  const outsider = await session(port, '127.0.0.9', ['LHLO robot', 'XFORWARD ADDR=127.0.0.1 HELO=inside', 'QUIT']);
  assert.match(outsider, /550 Error: Not allowed/);
});
