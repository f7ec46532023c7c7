// The LMTP listener Postfix hands messages to (content_filter = scan:[127.0.0.1]:10024). LMTP, not
// SMTP, so every recipient gets its own answer after DATA. This file turns outcomes into replies;
// what happens to a message is in pipeline.ts.
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../log.js';
import { SmtpReply, tempFail } from './smtp-reply.js';
import { newMessageId } from '../mail/local-id.js';
import { removeSpooled, spoolMessage, spoolPath } from './spool.js';
import type { RecipientReplies, SpooledMessage } from './pipeline.js';

export interface ListenOptions {
  host: string;
  port: number;
  hostname: string;
  spoolDir: string;
  maxMessageBytes: number;
  maxConnections: number;
  log: Logger;
  handle: (message: SpooledMessage) => Promise<RecipientReplies>;
}

export async function listen(options: ListenOptions): Promise<SMTPServer> {
  const { log } = options;
  const server = new SMTPServer({
    lmtp: true,
    name: options.hostname,
    banner: 'mailfilter content filter',
    size: options.maxMessageBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    // Postfix's scan transport sends XFORWARD (the real client, its HELO); only a peer on this
    // host's loopback may, so nobody else can claim to be a client inside mynetworks.
    useXForward: ['127.0.0.1', '::1'],
    // Postfix on this host is the only client: no PTR lookup (a DNS query) per connection.
    disableReverseLookup: true,
    maxClients: options.maxConnections * 2,
    logger: false,
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const id = newMessageId();
      const path = spoolPath(options.spoolDir, id);
      const envelope = {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
        // Postfix writes IPv6 clients as IPv6:2001:db8::1.
        clientAddress: session.remoteAddress.replace(/^IPv6:/i, ''),
        heloName: session.hostNameAppearsAs ?? '',
      };
      const receivedAt = new Date();
      // Everything is caught inside: the promise itself never rejects.
      void (async () => {
        try {
          const { size, bytes } = await spoolMessage(stream, path);
          if (stream.sizeExceeded) {
            // smtp-server answers 552 itself for an oversized message; nothing to filter.
            log.info('refused: too large', { id, size, limit: options.maxMessageBytes });
            return callback(new SmtpReply(552, `5.3.4 Message larger than ${options.maxMessageBytes} bytes`));
          }
          const replies = await options.handle({ id, path, size, bytes, receivedAt, envelope });
          // In LMTP mode smtp-server takes one reply per recipient: a string, or an error with a code.
          callback(null, replies as unknown as string);
        } catch (err) {
          const error = err as Error;
          const reply =
            error instanceof SmtpReply ? error : tempFail('4.3.0', `${id} could not be filtered (${error.message.replace(/[\r\n]+/g, ' ').slice(0, 200)})`);
          log.error('failed', {
            id,
            reply: reply.toString(),
            stack: error instanceof SmtpReply ? undefined : error.stack?.split('\n').slice(0, 4).join(' | '),
          });
          callback(reply);
        } finally {
          await removeSpooled(path).catch(() => undefined);
        }
      })();
    },
  });
  server.on('error', (err) => log.error('listener error', { error: err.message }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  log.info('listening', { address: `${options.host}:${options.port}`, protocol: 'LMTP' });
  return server;
}
