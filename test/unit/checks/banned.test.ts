import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bannedReason } from '../../../runtime/checks/banned.js';
import { listContainer } from '../../../runtime/checks/archives.js';
import { InspectionBudget, InspectionLimitError } from '../../../runtime/checks/budget.js';
import { zip, tar, bzip2 } from '../../support/archives.js';
import { FAKE_EXE } from '../../support/messages.js';

const banned = new Set(['exe', 'scr', 'js', 'lnk']);
const text = Buffer.from('plain text');

test('names are read the way Windows reads them', () => {
  assert.equal(bannedReason('setup.exe', text, '', banned), '.exe file');
  assert.equal(bannedReason('SETUP.EXE', text, '', banned), '.exe file');
  assert.equal(bannedReason('setup.exe. . ', text, '', banned), '.exe file');
  assert.equal(bannedReason('report.pdf.scr', text, '', banned), '.scr file');
  assert.equal(bannedReason('report.pdf', text, '', banned), null);
  assert.equal(bannedReason('exe', text, '', banned), null);
});

test('content decides too: magic bytes and declared types', () => {
  assert.match(bannedReason('photo.jpg', FAKE_EXE, 'image/jpeg', banned) ?? '', /Windows executable/);
  assert.match(bannedReason('x.bin', text, 'application/x-msdownload', banned) ?? '', /content type/);
  assert.equal(bannedReason('photo.jpg', FAKE_EXE, '', new Set(['js'])), null, 'MZ only counts when .exe is banned');
});

function context(limits: Partial<{ maxBytes: number; maxEntries: number; maxDepth: number }> = {}) {
  const tempDir = mkdtempSync(join(tmpdir(), 'banned-'));
  let n = 0;
  return { budget: new InspectionBudget({ maxBytes: 1e8, maxEntries: 1000, maxDepth: 4, ...limits }), tempDir, nextTempName: () => `t${++n}` };
}

function fileWith(data: Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'arc-')), 'a');
  writeFileSync(path, data);
  return path;
}

test('zip, tar.gz and tbz list their files with first bytes; nested containers are spilled', async () => {
  const z = await listContainer(
    fileWith(
      zip([
        { name: 'a.txt', data: text },
        { name: 'in.zip', data: zip([{ name: 'b.exe', data: FAKE_EXE }]) },
      ]),
    ),
    'zip',
    'x.zip',
    context(),
  );
  assert.deepEqual(
    z.map((e) => e.name),
    ['a.txt', 'in.zip'],
  );
  assert.equal(z[1]?.nested?.kind, 'zip');
  const inner = await listContainer(z[1]!.nested!.path, 'zip', 'in.zip', context());
  assert.equal(inner[0]?.name, 'b.exe');
  assert.equal(inner[0]?.magic.toString('latin1', 0, 2), 'MZ');

  const tgz = await listContainer(
    fileWith(
      gzipSync(
        tar([
          { name: 'dir/run.exe', data: FAKE_EXE },
          { name: 'readme', data: text },
        ]),
      ),
    ),
    'gzip',
    'x.tgz',
    context(),
  );
  assert.deepEqual(
    tgz.map((e) => e.name),
    ['dir/run.exe', 'readme'],
  );
  const tbz = await listContainer(fileWith(bzip2(tar([{ name: 'a', data: text }]))), 'bzip2', 'x.tbz', context());
  assert.deepEqual(
    tbz.map((e) => e.name),
    ['a'],
  );
  const gz = await listContainer(fileWith(gzipSync(FAKE_EXE)), 'gzip', 'tool.exe.gz', context());
  assert.equal(gz[0]?.name, 'tool.exe');
});

test('bombs end at the budget, not at the disk or the heap', async () => {
  const bomb = fileWith(gzipSync(Buffer.alloc(50 * 1024 * 1024)));
  await assert.rejects(listContainer(bomb, 'gzip', 'zeros.gz', context({ maxBytes: 10 * 1024 * 1024 })), InspectionLimitError);
  const many = fileWith(zip(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: text }))));
  await assert.rejects(listContainer(many, 'zip', 'many.zip', context({ maxEntries: 20 })), /more than 20 files/);
});
