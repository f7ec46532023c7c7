// The policy service's TCP listener: one connection per smtpd process, requests answered in order.
// An answer that cannot be worked out lets the mail on (DUNNO), logged: greylisting delays junk,
// it is not what keeps viruses or forgeries out, and a failure here must not hold all mail.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { policyAnswer, requestReader, type PolicyRequest } from './protocol.js';

export type PolicyHandler = (request: PolicyRequest) => Promise<{ action: string; why: string }>;

/** The server, and `close` that also ends the connections smtpd keeps open between mails. */
export async function listenPolicy(host: string, port: number, handle: PolicyHandler, log: Logger): Promise<{ server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let queue = Promise.resolve();
    const read = requestReader((request) => {
      queue = queue.then(async () => {
        let answer: { action: string; why: string };
        try {
          answer = await handle(request);
        } catch (err) {
          log.warn('policy check failed, mail let on', { client: request.client_address, error: (err as Error).message });
          answer = { action: 'DUNNO', why: 'check failed' };
        }
        log.info('policy', {
          client: request.client_address,
          from: request.sender || '<>',
          to: request.recipient,
          action: answer.action.split(' ')[0],
          why: answer.why,
        });
        if (!socket.destroyed) socket.write(policyAnswer(answer.action));
      });
    });
    socket.on('data', (chunk) => {
      try {
        read(chunk);
      } catch (err) {
        log.warn('policy connection dropped', { error: (err as Error).message });
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.setTimeout(300_000, () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
