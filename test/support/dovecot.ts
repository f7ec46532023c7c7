// A real Dovecot (POP3 and IMAP, with TLS from a test CA) on loopback ports, mailboxes in Maildir
// folders the test fills directly.
import { spawnServer } from '../../runtime/local/servers.js';
import { chmodSync, chownSync, mkdirSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, converse } from './net.js';
import type { TestCerts } from './tls.js';

export interface Dovecot {
  ports: { pop3: number; pop3s: number; imap: number; imaps: number };
  deliver(user: string, raw: string): void;
  /** Messages in the user's INBOX (Maildir new + cur). */
  count(user: string): number;
  stop(): Promise<void>;
}

const MAIL_UID = 8; // Debian's "mail" user
const MAIL_GID = 8;

export async function startDovecot(dir: string, certs: TestCerts, accounts: Record<string, string>): Promise<Dovecot> {
  for (const sub of ['run', 'state', 'mail']) mkdirSync(join(dir, sub), { recursive: true });
  chmodSync(dir, 0o755);
  chownSync(join(dir, 'mail'), MAIL_UID, MAIL_GID);
  const ports = { pop3: await freePort(), pop3s: await freePort(), imap: await freePort(), imaps: await freePort() };
  const users = join(dir, 'users');
  // All users up front: Dovecot notices later changes to this file only after a delay.
  writeFileSync(
    users,
    Object.entries(accounts)
      .map(([user, password]) => `${user}:{PLAIN}${password}::::::\n`)
      .join(''),
  );
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = pop3 imap
listen = 127.0.0.1
ssl = required
ssl_cert = <${certs.serverCert}
ssl_key = <${certs.serverKey}
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${users}
}
userdb {
  driver = static
  args = uid=${MAIL_UID} gid=${MAIL_GID} home=${dir}/mail/%u
}
mail_location = maildir:${dir}/mail/%u
first_valid_uid = ${MAIL_UID}
first_valid_gid = ${MAIL_GID}
mail_privileged_group = mail
pop3_uidl_format = %08Xu%08Xv
service imap-login {
  inet_listener imap {
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = ${ports.pop3s}
    ssl = yes
  }
}
# The run's marker survives Dovecot's environment cleaning, so a sweep finds a left-over instance.
import_environment = TZ MAILFILTER_RUN_ID
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  const server = spawnServer('Dovecot', 'dovecot', ['-F', '-c', conf], { logFile: join(dir, 'dovecot.out') });
  try {
    await server.ready('Dovecot IMAP greeting', async () => (await converse({ host: '127.0.0.1', port: ports.imap }, 'a LOGOUT\r\n')).includes('OK'), 30_000);
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}; see ${dir}/dovecot.log`);
  }

  const maildir = (user: string) => join(dir, 'mail', user);
  return {
    ports,
    deliver(user, raw) {
      const base = maildir(user);
      for (const sub of ['', 'new', 'cur', 'tmp']) {
        mkdirSync(join(base, sub), { recursive: true });
        chownSync(join(base, sub), MAIL_UID, MAIL_GID);
      }
      const file = join(base, 'new', `${Date.now()}.${randomBytes(6).toString('hex')}.test`);
      writeFileSync(file, raw);
      chownSync(file, MAIL_UID, MAIL_GID);
    },
    count(user) {
      const base = maildir(user);
      return ['new', 'cur'].reduce((n, sub) => n + (existsSync(join(base, sub)) ? readdirSync(join(base, sub)).length : 0), 0);
    },
    stop: () => server.stop(),
  };
}
