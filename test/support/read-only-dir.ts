// Makes a folder and the folders in it refuse new files, for tests of a broken disk. Root ignores
// permission bits, so as root they are also made immutable (chattr +i); undo it before removing them.
import { chmodSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const isRoot = process.getuid?.() === 0;

function foldersIn(dir: string): string[] {
  return [
    dir,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => foldersIn(join(dir, e.name))),
  ];
}

export function makeReadOnly(dir: string): void {
  for (const folder of foldersIn(dir)) {
    chmodSync(folder, 0o555);
    if (isRoot) execFileSync('chattr', ['+i', folder]);
  }
}

export function makeWritable(dir: string): void {
  for (const folder of foldersIn(dir)) {
    if (isRoot) execFileSync('chattr', ['-i', folder]);
    chmodSync(folder, 0o750);
  }
}
