// Hands a fetched message to the appliance's own Postfix (port 25), addressed to the local
// recipient, so it goes through the same filter chain as mail received over SMTP.
import { createReadStream } from 'node:fs';
import nodemailer from 'nodemailer';
import { headerValues, readHead } from '../filter/message-head.js';

export interface Injector {
  inject(path: string, deliverTo: string): Promise<void>;
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
      const info = await transport.sendMail({ envelope: { from, to: [deliverTo] }, raw: createReadStream(path) });
      if (info.accepted.length === 0) throw new Error(`Postfix did not accept it: ${info.response}`);
    },
    close() {
      transport.close();
    },
  };
}
