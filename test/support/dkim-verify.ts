// The independent DKIM verifier for tests: Debian's python3-dkim (its own python, not a pyenv
// one), with its DNS lookup answered by the record the test publishes.
import { execFileSync } from 'node:child_process';

export function pythonDkimVerifies(message: string | Buffer, record: string): boolean {
  const script =
    'import sys, dkim\nrecord = sys.argv[1].encode()\nmsg = sys.stdin.buffer.read()\nprint("pass" if dkim.verify(msg, dnsfunc=lambda name, timeout=5: record) else "fail")\n';
  return execFileSync('/usr/bin/python3', ['-c', script, record], { input: message }).toString().trim() === 'pass';
}
