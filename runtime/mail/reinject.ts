// Re-injection: hands a message to Postfix's re-injection listener (no content filter there) and
// reports what the next hop said for every recipient, so each gets its own LMTP answer.
import nodemailer from 'nodemailer';
import type { Readable } from 'node:stream';

export interface RecipientOutcome {
  recipient: string;
  /** The next hop's reply code for this recipient (250 when accepted). */
  code: number;
  response: string;
}

export interface NextHop {
  host: string;
  port: number;
  /** Our name in EHLO. */
  heloName: string;
  maxConnections: number;
}

export interface Reinjector {
  send(from: string, to: string[], message: Readable): Promise<RecipientOutcome[]>;
  close(): void;
}

interface SmtpErrorLike extends Error {
  responseCode?: number;
  response?: string;
  recipient?: string;
  rejectedErrors?: SmtpErrorLike[];
  code?: string;
}

function codeOf(err: SmtpErrorLike): number {
  // No reply code at all (connection refused, timeout): a temporary failure.
  return err.responseCode ?? 451;
}

export function createReinjector(hop: NextHop): Reinjector {
  const transport = nodemailer.createTransport({
    host: hop.host,
    port: hop.port,
    secure: false,
    ignoreTLS: true,
    name: hop.heloName,
    pool: true,
    maxConnections: hop.maxConnections,
    maxMessages: 1000,
    connectionTimeout: 30_000,
    socketTimeout: 300_000,
  });
  return {
    async send(from, to, message) {
      try {
        const info = (await transport.sendMail({ envelope: { from, to }, raw: message })) as {
          accepted?: unknown[];
          rejectedErrors?: SmtpErrorLike[];
          response?: string;
        };
        const rejected = new Map((info.rejectedErrors ?? []).map((e) => [String(e.recipient ?? '').toLowerCase(), e]));
        return to.map((recipient) => {
          const error = rejected.get(recipient.toLowerCase());
          if (error) return { recipient, code: codeOf(error), response: error.response ?? error.message };
          return { recipient, code: 250, response: info.response ?? '250 ok' };
        });
      } catch (err) {
        const error = err as SmtpErrorLike;
        const perRecipient = new Map((error.rejectedErrors ?? []).map((e) => [String(e.recipient ?? '').toLowerCase(), e]));
        return to.map((recipient) => {
          const specific = perRecipient.get(recipient.toLowerCase()) ?? error;
          return { recipient, code: codeOf(specific), response: specific.response ?? `${specific.code ?? 'error'}: ${specific.message}` };
        });
      }
    },
    close() {
      transport.close();
    },
  };
}
