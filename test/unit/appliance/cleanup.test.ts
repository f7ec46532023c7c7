// The build stages' one cleanup (appliance/lib/cleanup.sh): what a step registers is undone, last
// made first, when the script fails, exits or is signalled, and a tree is never removed while
// something is still mounted below it. Mounts and umount are stood in for by shell functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

const LIB = resolve('appliance/lib/cleanup.sh');

function bash(script: string, dir: string) {
  return spawnSync('bash', ['-c', `set -euo pipefail\n. '${LIB}'\ncd '${dir}'\n${script}`], { encoding: 'utf8', timeout: 20_000 });
}

test('a failing step undoes what was made, last first, and each undo runs once', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cleanup-'));
  try {
    const result = bash(
      `cleanup_trap
       cleanup_push sh -c 'echo "undo one" >> log'
       cleanup_push sh -c 'echo "undo two" >> log'
       false
       echo never >> log`,
      dir,
    );
    assert.equal(result.status, 1);
    assert.equal(readFileSync(join(dir, 'log'), 'utf8'), 'undo two\nundo one\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a step that ends normally undoes itself with cleanup_pop, and the rest waits for the end', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cleanup-'));
  try {
    const result = bash(
      `cleanup_trap
       cleanup_push sh -c 'echo "undo outer" >> log'
       cleanup_push sh -c 'echo "undo inner" >> log'
       cleanup_pop
       echo "work" >> log`,
      dir,
    );
    assert.equal(result.status, 0);
    assert.equal(readFileSync(join(dir, 'log'), 'utf8'), 'undo inner\nwork\nundo outer\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an undo that fails is reported and the others still run; a path with spaces survives', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cleanup-'));
  try {
    mkdirSync(join(dir, 'a b'));
    const result = bash(
      `cleanup_trap
       cleanup_push rm -rf 'a b'
       cleanup_push false
       exit 3`,
      dir,
    );
    assert.equal(result.status, 3);
    assert.match(result.stderr, /cleanup: could not undo: false/);
    assert.equal(existsSync(join(dir, 'a b')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [signal, status] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
  ['SIGHUP', 129],
] as const) {
  test(`${signal} while a step runs: cleanup undoes it and the script ends with ${status}`, { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cleanup-'));
    try {
      const child = spawn(
        'bash',
        ['-c', `set -euo pipefail\n. '${LIB}'\ncd '${dir}'\ncleanup_trap\ncleanup_push sh -c 'echo undone >> log'\necho ready\nsleep 30 & wait $!`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      await once(child.stdout, 'data');
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, status);
      assert.equal(readFileSync(join(dir, 'log'), 'utf8'), 'undone\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// findmnt and umount stand-ins: a mount list in a file, and an umount that can be made to fail.
const FAKE_MOUNTS = `
  findmnt() { cat mounts; }
  umount() {
    [ "$1" = -l ] && shift
    grep -qx "$1" stuck 2>/dev/null && return 1
    echo "umount $1" >> log
    grep -vx "$1" mounts > mounts.new || true
    mv mounts.new mounts
  }`;

test('cleanup_remove_tree unmounts what is below the tree, deepest first, then removes it', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cleanup-'));
  try {
    const root = join(dir, 'rootfs');
    mkdirSync(join(root, 'dev/pts'), { recursive: true });
    const result = bash(
      `${FAKE_MOUNTS}
       printf '%s\\n' / /proc '${root}/proc' '${root}/dev' '${root}/dev/pts' '${root}/sys' '${root}-other' > mounts
       cleanup_remove_tree '${root}'`,
      dir,
    );
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(readFileSync(join(dir, 'log'), 'utf8').trim().split('\n'), [
      `umount ${root}/sys`,
      `umount ${root}/proc`,
      `umount ${root}/dev/pts`,
      `umount ${root}/dev`,
    ]);
    assert.equal(existsSync(root), false);
    assert.deepEqual(readFileSync(join(dir, 'mounts'), 'utf8').trim().split('\n'), ['/', '/proc', `${root}-other`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cleanup_remove_tree leaves a tree in place while a mount below it stays', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cleanup-'));
  try {
    const root = join(dir, 'rootfs');
    mkdirSync(join(root, 'dev'), { recursive: true });
    const result = bash(
      `${FAKE_MOUNTS}
       printf '%s\\n' '${root}/dev' '${root}/proc' > mounts
       echo '${root}/dev' > stuck
       cleanup_remove_tree '${root}'`,
      dir,
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /still has mounts; left in place/);
    assert.equal(existsSync(join(root, 'dev')), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
