import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { KbackupError } from '../core/errors.js';
import { configFileSchema, type ConfigFile } from './schema.js';

/** Reads and validates the configuration file; every problem names the key and how to fix it. */
export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KbackupError(
      'CONFIG',
      `cannot read the configuration file ${path}: ${(error as Error).message}`,
      {
        hint: 'Check --config (or KBACKUP_CONFIG).',
      },
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new KbackupError('CONFIG', `${path} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = i.path.join('.') || '(top level)';
      const fix =
        i.code === 'unrecognized_keys'
          ? ` (unknown key${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')})`
          : '';
      return `${key}: ${i.message}${fix}`;
    });
    throw new KbackupError('CONFIG', `${path} is invalid: ${problems.join('; ')}`, {
      hint: 'docs/CONFIGURATION.md describes the file: clusters, defaults and commands.',
    });
  }
  return parsed.data;
}
