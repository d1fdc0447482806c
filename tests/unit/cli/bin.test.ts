import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string };

// Runs the package's own bin through npx, as a user does after `npm run build` (npm test builds first).
function npx(args: string[]): string {
  return execFileSync('npx', ['--no-install', 'kbackup', ...args], { cwd: root, encoding: 'utf8' });
}

describe('the kbackup bin', () => {
  it('prints the package version', () => {
    expect(npx(['--version']).trim()).toBe(pkg.version);
  });

  it('prints help with every command and the exit-code table', () => {
    const help = npx(['--help']);
    for (const command of ['backup', 'restore', 'verify', 'list', 'describe'])
      expect(help).toContain(command);
    expect(help).toMatch(/Exit codes:\n\s+0 {2}ok/);
    expect(help).toMatch(/143 {2}terminated/);
  });
});
