// Renders the appliance's system config files from appliance/templates into a root folder: a pure
// function of the config, so it is tested by golden files without touching the machine.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppConfig } from '../config/schema.js';
import { templateValues } from './template-values.js';

export const TEMPLATE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'appliance', 'templates');

export interface RenderedFile {
  template: string;
  /** Absolute path on the appliance, e.g. /etc/postfix/main.cf. */
  target: string;
  mode: number;
  content: string;
  /** Postfix lookup table: `postmap` must be run on it after writing. */
  postmap: boolean;
}

interface ManifestEntry {
  target: string;
  mode: string;
  postmap?: boolean;
  /** Rendered only in this case. */
  only?: 'static-network';
}

export function fill(template: string, values: Record<string, string>, name: string): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${name}: no value for {{${key}}}`);
    return value;
  });
}

export function renderAll(config: AppConfig, templateDir = TEMPLATE_DIR): RenderedFile[] {
  const manifest = JSON.parse(readFileSync(join(templateDir, 'manifest.json'), 'utf8')) as Record<string, ManifestEntry>;
  const values = templateValues(config);
  const applies = (entry: ManifestEntry) => entry.only !== 'static-network' || !config.network.dhcp;
  return Object.entries(manifest)
    .filter(([, entry]) => applies(entry))
    .map(([template, entry]) => ({
      template,
      target: fill(entry.target, values, 'manifest.json'),
      mode: parseInt(entry.mode, 8),
      postmap: entry.postmap === true,
      content: fill(readFileSync(join(templateDir, template), 'utf8'), { ...values, template: `templates/${template}` }, template),
    }));
}

/** Writes every rendered file under `root` (use "/" on the appliance). */
export async function writeRendered(files: RenderedFile[], root: string): Promise<string[]> {
  const written: string[] = [];
  for (const file of files) {
    const path = join(root, file.target);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    await chmod(path, file.mode);
    written.push(path);
  }
  return written;
}
