// The independent DKIM verifier for tests: Debian's python3-dkim (its own python, not a pyenv
// one), with its DNS lookup answered by the record the test publishes.
import { execFileSync } from 'node:child_process';

export function pythonDkimVerifies(message: string | Buffer, record: string): boolean {
  const script =
    'import sys, dkim\nrecord = sys.argv[1].encode()\nmsg = sys.stdin.buffer.read()\nprint("pass" if dkim.verify(msg, dnsfunc=lambda name, timeout=5: record) else "fail")\n';
  return execFileSync('/usr/bin/python3', ['-c', script, record], { input: message }).toString().trim() === 'pass';
}

export interface PythonSignOptions {
  selector: string;
  domain: string;
  /** RSA: the PEM; Ed25519: the base64 of the 32-byte seed (python3-dkim's form). */
  privateKey: string;
  canonicalize?: readonly [header: 'relaxed' | 'simple', body: 'relaxed' | 'simple'];
  algorithm?: 'rsa-sha256' | 'ed25519-sha256' | 'rsa-sha1';
  /** Adds l= (the body length signed). */
  length?: boolean;
  identity?: string;
}

/** The DKIM-Signature field python3-dkim makes for `message` (CRLF-terminated), as an independent signer would. */
export function pythonDkimSign(message: string | Buffer, options: PythonSignOptions): string {
  const script = [
    'import sys, json, dkim',
    'o = json.loads(sys.argv[1])',
    'msg = sys.stdin.buffer.read()',
    "sig = dkim.sign(msg, o['selector'].encode(), o['domain'].encode(), o['privateKey'].encode(), identity=o['identity'].encode() if o.get('identity') else None,",
    "  canonicalize=(o['canon'][0].encode(), o['canon'][1].encode()), signature_algorithm=o['algorithm'].encode(), length=o['length'])",
    'sys.stdout.buffer.write(sig)',
  ].join('\n');
  const args = {
    selector: options.selector,
    domain: options.domain,
    privateKey: options.privateKey,
    identity: options.identity ?? null,
    canon: options.canonicalize ?? ['relaxed', 'simple'],
    algorithm: options.algorithm ?? 'rsa-sha256',
    length: options.length ?? false,
  };
  return execFileSync('/usr/bin/python3', ['-c', script, JSON.stringify(args)], { input: message }).toString('latin1');
}
