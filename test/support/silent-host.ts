// A database host that drops packets, as a test can have one on loopback: a TCP listener that
// accepts and never answers, counting the connections it took. Told to, it forwards the ones that
// come next to a real server, as the host would once it answers again.
import { createConnection, createServer, type Socket } from 'node:net';
import type { Server } from '../../runtime/local/servers.js';

export interface SilentHost extends Server {
  port: number;
  /** Connections accepted so far, silent or forwarded. */
  accepted(): number;
  /** From now on, connections are passed on to 127.0.0.1:`port`. */
  forwardTo(port: number): void;
}

export async function startSilentHost(): Promise<SilentHost> {
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  let accepted = 0;
  let target: number | undefined;
  const server = createServer((socket) => {
    accepted += 1;
    track(socket);
    if (target === undefined) return;
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    track(upstream);
    socket.pipe(upstream).pipe(socket);
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    name: 'silent database host',
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    forwardTo(port) {
      target = port;
    },
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
