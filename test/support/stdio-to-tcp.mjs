// For qemu's guestfwd=...-cmd: one process per guest connection, piping it to a port on this host.
// (guestfwd=...-tcp: opens a single connection when qemu starts, which a server times out.)
import { connect } from 'node:net';

const [host, port] = [process.argv[2] ?? '127.0.0.1', Number(process.argv[3])];
const socket = connect({ host, port });
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('error', () => process.exit(1));
socket.on('close', () => process.exit(0));
