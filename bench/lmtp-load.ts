// Load for the filter alone: LMTP over pooled connections (as Postfix's connection cache keeps them),
// `sessions` at once, until `total` messages were answered. Prints one JSON line with the figures.
import nodemailer from 'nodemailer';

export async function lmtpLoad(port: number, total: number, sessions: number, size: number): Promise<{ seconds: number; failed: number }> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    lmtp: true,
    ignoreTLS: true,
    pool: true,
    maxConnections: sessions,
    maxMessages: Infinity,
  });
  const line = `${'x'.repeat(76)}\r\n`;
  const raw = `From: bench@example.net\r\nTo: bob@company.com\r\nSubject: bench\r\n\r\n${line.repeat(Math.max(1, Math.ceil(size / line.length)))}`;
  let started = 0;
  let failed = 0;
  const begin = process.hrtime.bigint();
  const worker = async () => {
    while (started < total) {
      started += 1;
      await transport.sendMail({ envelope: { from: 'bench@example.net', to: ['bob@company.com'] }, raw }).catch(() => (failed += 1));
    }
  };
  await Promise.all(Array.from({ length: sessions }, worker));
  transport.close();
  return { seconds: Number(process.hrtime.bigint() - begin) / 1e9, failed };
}
