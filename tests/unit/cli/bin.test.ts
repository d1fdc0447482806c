import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launcherFlags } from '../../support/cli.js';

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

  it('starts backup and restore with a 1 MiB young generation and every other command with 8 MiB', () => {
    const semiSpace = (args: string[]): string[] =>
      launcherFlags(args).filter((flag) => flag.startsWith('--max-semi-space-size'));
    const small = ['--max-semi-space-size=1'];
    const usual = ['--max-semi-space-size=8'];
    expect(semiSpace(['backup', '--repo', 'r'])).toEqual(small);
    expect(semiSpace(['--json', '-q', 'backup'])).toEqual(small);
    expect(semiSpace(['--config', 'backup', 'verify'])).toEqual(usual); // a global option's value
    expect(semiSpace(['--log-level=info', 'backup'])).toEqual(small);
    expect(semiSpace(['verify', '--backup', 'latest'])).toEqual(usual);
    expect(semiSpace(['restore', '--topics', 'backup'])).toEqual(small);
    expect(semiSpace(['--json', 'restore'])).toEqual(small);
    expect(semiSpace(['--config', 'verify', 'restore'])).toEqual(small);
    expect(semiSpace(['migrate', '--from', 'x'])).toEqual(usual);
    expect(semiSpace([])).toEqual(usual);
  });

  it('refuses an unsupported Node with exit 7 and a message, before the CLI loads', () => {
    // The preload makes this Node report an old version, as an old node on PATH would.
    const oldNode =
      'data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.20.2"}})';
    const run = spawnSync(
      process.execPath,
      ['--import', oldNode, resolve(root, 'bin/kbackup'), '--version'],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(7);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^kbackup: error: Node.js 20.20.2 is too old for kbackup, which needs Node.js 22.22\+ or 24.6\+.\n {2}hint: /,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
