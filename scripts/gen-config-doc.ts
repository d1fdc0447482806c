/**
 * Regenerates docs/CONFIGURATION.md from the built CLI's own --help, so that the reference cannot drift
 * from the flags. `npm run docs`; tests/unit/cli/config-doc.test.ts fails when the file is stale.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const cli = resolve(import.meta.dirname, '../dist/cli/main.js');
export const COMMANDS: string[][] = [
  ['backup'],
  ['restore'],
  ['verify'],
  ['list'],
  ['describe'],
  ['offsets', 'snapshot'],
  ['offsets', 'reset'],
  ['offsets', 'rollback'],
];

export function helpOf(args: string[]): string {
  return execFileSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '110' },
  });
}

export function renderConfigDoc(): string {
  const parts = [
    '# Configuration reference',
    '',
    'Generated from `kbackup --help` by `npm run docs`; do not edit by hand. Flags take precedence over',
    'defaults shown here. Sizes accept `64MiB`, `512k`, `1g`; durations `500ms`, `30s`, `10m`; times',
    'ISO-8601 with a zone (`2026-11-22T14:01:59.999Z`) or epoch milliseconds. Topic patterns are exact',
    'names, globs (`orders-*`) or `/regexes/`.',
    '',
    '## Global options and exit codes',
    '',
    '```',
    helpOf(['--help']).trimEnd(),
    '```',
  ];
  for (const command of COMMANDS) {
    parts.push('', `## kbackup ${command.join(' ')}`, '', '```', helpOf([...command, '--help']).trimEnd(), '```');
  }
  return parts.join('\n') + '\n';
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(resolve(import.meta.dirname, '../docs/CONFIGURATION.md'), renderConfigDoc());
}
