// Postfix's allowed-recipients map (relay_recipient_maps) from the directory's addresses: written
// beside the old one, postmap'd, then renamed over it, so Postfix never sees a half-made map.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rename, writeFile, rm } from 'node:fs/promises';

const run = promisify(execFile);

/** Postfix keeps failing lookups in a map that was missing when its processes started: reload it. */
export async function reloadPostfix(configDir: string): Promise<boolean> {
  try {
    await run('postfix', ['-c', configDir, 'reload']);
    return true;
  } catch {
    return false; // not running: it reads the new map when it starts
  }
}

/** `configDir` is the Postfix instance's config folder: postmap reads its main.cf. */
export async function writeRecipientMap(path: string, addresses: string[], configDir: string): Promise<void> {
  if (addresses.length === 0) throw new Error('refusing to write an empty recipient map: Postfix would refuse all mail');
  const next = `${path}.next`;
  const lines = [...new Set(addresses.map((a) => a.toLowerCase()))].sort().map((a) => `${a} OK`);
  await writeFile(next, `# Written by mailfilter directory-sync on ${new Date().toISOString()}; do not edit.\n${lines.join('\n')}\n`, { mode: 0o644 });
  try {
    await run('postmap', ['-c', configDir, `hash:${next}`]);
    await rename(`${next}.db`, `${path}.db`);
    await rename(next, path);
  } catch (err) {
    await rm(next, { force: true });
    await rm(`${next}.db`, { force: true });
    throw err;
  }
}
