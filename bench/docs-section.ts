// A bench's own section of docs/benchmarks.md, between its start and end markers: replaced in
// place when there, else added at the end; the other benches' sections are kept as they are.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function replaceDocsSection(sectionStart: string, sectionEnd: string, section: string): void {
  const path = resolve('docs/benchmarks.md');
  const current = readFileSync(path, 'utf8');
  const start = current.indexOf(sectionStart);
  const kept = start === -1 ? current.trimEnd() : (current.slice(0, start) + current.slice(current.indexOf(sectionEnd) + sectionEnd.length)).trimEnd();
  writeFileSync(path, `${kept}\n\n${section}\n`);
}
