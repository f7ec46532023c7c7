// Reads the appliance config once, at the edge: every problem is collected and named by its path
// (`policy.spamLevel: must be a number ...`), so an admin fixes them all in one go.
import { readFileSync } from 'node:fs';
import { schema, type AppConfig } from './schema.js';
import type { Field } from './fields.js';

export const DEFAULT_CONFIG_PATH = '/etc/mailfilter/mailfilter.json';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the config:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Sections = Record<string, Record<string, Field<unknown>>>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function defaultConfig(): AppConfig {
  return parseConfig({}, 'defaults');
}

/** Validates a parsed JSON document; missing settings take their defaults, unknown ones are errors. */
export function parseConfig(raw: unknown, source = 'config'): AppConfig {
  const problems: string[] = [];
  const sections = schema as Sections;
  const result: Record<string, Record<string, unknown>> = {};
  if (!isPlainObject(raw)) throw new ConfigError(source, ['the top level must be a JSON object']);

  for (const name of Object.keys(raw)) {
    if (!Object.hasOwn(sections, name)) problems.push(`${name}: unknown section (known: ${Object.keys(sections).join(', ')})`);
  }
  for (const [sectionName, fields] of Object.entries(sections)) {
    const given = raw[sectionName] ?? {};
    const values: Record<string, unknown> = {};
    result[sectionName] = values;
    if (!isPlainObject(given)) {
      problems.push(`${sectionName}: must be an object`);
      continue;
    }
    for (const key of Object.keys(given)) {
      if (!Object.hasOwn(fields, key)) problems.push(`${sectionName}.${key}: unknown setting (known: ${Object.keys(fields).join(', ')})`);
    }
    for (const [key, fieldSpec] of Object.entries(fields)) {
      const value = Object.hasOwn(given, key) ? given[key] : undefined;
      if (value === undefined) {
        values[key] = structuredClone(fieldSpec.default);
        continue;
      }
      try {
        values[key] = fieldSpec.parse(value);
      } catch (err) {
        problems.push(`${sectionName}.${key}: ${(err as Error).message}`);
      }
    }
  }
  if (problems.length === 0) problems.push(...crossCheck(result as AppConfig));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return result as AppConfig;
}

/** Rules that involve more than one setting. */
function crossCheck(config: AppConfig): string[] {
  const problems: string[] = [];
  const { directory, viewer, filter, policy } = config;
  if (directory.enabled) {
    for (const key of ['server', 'baseDn', 'bindUser'] as const) {
      if (directory[key] === '') problems.push(`directory.${key}: required when directory.enabled is true`);
    }
  }
  if (viewer.loginMethod === 'ldap' && !directory.enabled) {
    problems.push('viewer.loginMethod: "ldap" needs directory.enabled (the viewer binds to the directory server)');
  }
  if ((viewer.tlsCert === '') !== (viewer.tlsKey === '')) {
    problems.push('viewer.tlsCert / viewer.tlsKey: give both or neither');
  }
  if ((config.postfix.tlsCert === '') !== (config.postfix.tlsKey === '')) {
    problems.push('postfix.tlsCert / postfix.tlsKey: give both or neither');
  }
  if (config.storage.backend === 'postgresql' && config.storage.url === '') {
    problems.push('storage.url: required when storage.backend is "postgresql"');
  }
  if (policy.saMaxBodySize > filter.maxMessageBytes) {
    problems.push(`policy.saMaxBodySize: larger than filter.maxMessageBytes (${filter.maxMessageBytes})`);
  }
  return problems;
}

export function loadConfig(path: string): AppConfig {
  let textContent: string;
  try {
    textContent = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(textContent);
  } catch (err) {
    throw new ConfigError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseConfig(raw, path);
}
