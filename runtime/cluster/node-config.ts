// A node's own config file when it joins or leaves: only the storage section changes; the network,
// host name, TLS certificate and every other setting stay as the admin wrote them. The system files
// that depend on storage (SpamAssassin's Bayes store) are rendered again, and nothing else.
import { chmodSync, chownSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/schema.js';
import { parseConfig } from '../config/load.js';
import { renderAll, writeRendered } from '../render/render.js';

/** Writes `storage` into the config file at `path`, checked as a whole first; returns the new config. */
export function writeStorageSettings(path: string, storage: AppConfig['storage']): AppConfig {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const next = { ...raw, storage: { ...((raw.storage as object | undefined) ?? {}), ...storage } };
  const config = parseConfig(next, path);
  // Written beside it and renamed over it: a node that loses power mid-write keeps one whole file.
  // The file holds the database password: it keeps its owner and mode (root:mailfilter 0640 on the appliance).
  const before = statSync(path);
  const temporary = `${path}.joining`;
  writeFileSync(temporary, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  chownSync(temporary, before.uid, before.gid);
  chmodSync(temporary, before.mode & 0o7777);
  renameSync(temporary, path);
  return config;
}

/** Renders again, under `root`, the system files whose content the storage change alters; their paths. */
export async function renderStorageFiles(before: AppConfig, after: AppConfig, root: string): Promise<string[]> {
  const old = new Map(renderAll(before).map((file) => [file.target, file.content]));
  const changed = renderAll(after).filter((file) => old.get(file.target) !== file.content);
  await writeRendered(changed, root);
  return changed.map((file) => (root === '/' ? file.target : join(root, file.target)));
}
