// Hands a fetched message to the appliance's own Postfix (port 25), addressed to the local
// recipient, so it goes through the same filter chain as mail received over SMTP. Postfix's
// answer comes back as a value, so the poll decides per message what to do with it.
import { createReadStream } from 'node:fs';
import nodemailer from 'nodemailer';
import { headerValues, readHead } from '../mail/message-head.js';
import { oneLine } from '../text/one-line.js';

/**
 * accepted: Postfix answered 250 (it has the message on disk).
 * refused: a 5xx, the same every time (too big, a sender it rejects).
 * deferred: a 4xx for this message; Postfix itself answers.
 * unreachable: no Postfix to talk to (refused connection, timeout, 421): nothing can be delivered now.
 */
export type InjectResult = { outcome: 'accepted' | 'refused' | 'deferred' | 'unreachable'; reply: string };

export interface Injector {
  inject(path: string, deliverTo: string): Promise<InjectResult>;
  close(): void;
}

const ADDR_SPEC = /^[^\s@<>"(),;:]+@[^\s@<>"(),;:]+$/;

/** The envelope sender: Return-Path, else the From address, else the null sender. */
export function envelopeSender(returnPath: string | undefined, from: string | undefined): string {
  for (const value of [returnPath, from]) {
    if (!value) continue;
    const address = (/<([^<>]*)>/.exec(value)?.[1] ?? value).trim();
    if (address === '' && value === returnPath) return '';
    if (ADDR_SPEC.test(address)) return address;
  }
  return '';
}

/** Sorts nodemailer's error by what it says about the message (responseCode) or about Postfix (no reply). */
export function classifySendError(err: Error & { responseCode?: number; response?: string }): InjectResult {
  const reply = oneLine(err.response ?? err.message, 300);
  const code = err.responseCode ?? 0;
  if (code >= 500) return { outcome: 'refused', reply };
  if (code >= 400 && code !== 421) return { outcome: 'deferred', reply };
  return { outcome: 'unreachable', reply };
}

export function createInjector(target: { host: string; port: number; heloName: string; timeoutMs: number }): Injector {
  const transport = nodemailer.createTransport({
    host: target.host,
    port: target.port,
    ignoreTLS: true,
    name: target.heloName,
    connectionTimeout: target.timeoutMs,
    socketTimeout: target.timeoutMs,
  });
  return {
    async inject(path, deliverTo) {
      const head = await readHead(path, 256 * 1024);
      const from = envelopeSender(headerValues(head, 'Return-Path')[0], headerValues(head, 'From')[0]);
      try {
        const info = await transport.sendMail({ envelope: { from, to: [deliverTo] }, raw: createReadStream(path) });
        if (info.accepted.length === 0) return { outcome: 'deferred', reply: `no recipient accepted: ${info.response}` };
        return { outcome: 'accepted', reply: info.response };
      } catch (err) {
        return classifySendError(err as Error);
      }
    },
    close() {
      transport.close();
    },
  };
}
