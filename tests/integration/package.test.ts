import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { tempRepo } from '../support/cli.js';
import { createTopic, produceRecords, uniqueTopic } from '../support/kafka-helpers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const bootstrap = inject('kafkaBootstrap');

describe('npm pack', () => {
  it('produces a package that installs elsewhere, and whose kbackup bin backs up and verifies', async () => {
    const work = mkdtempSync(join(tmpdir(), 'kbackup-pack-'));
    // prepack builds dist/, exactly as a release would.
    const packed = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root });
    const tarball = join(work, packed.stdout.trim().split('\n').at(-1) ?? '');
    expect(tarball).toMatch(new RegExp(`${pkg.name}-${pkg.version}\\.tgz$`));

    const listing = (await run('tar', ['tzf', tarball])).stdout.split('\n');
    for (const file of [
      'bin/kbackup',
      'dist/cli/main.js',
      'docs/FORMAT.md',
      'docs/EXIT-CODES.md',
      'README.md',
    ])
      expect(listing).toContain(`package/${file}`);
    expect(listing.filter((f) => /^package\/(src|tests|bench|scripts)\//.test(f))).toEqual([]);

    const app = join(work, 'app');
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    // Dependencies come from the npm cache that `npm ci` filled, or the registry.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: app,
      timeout: 240_000,
    });
    const kbackup = (args: string[]) =>
      run('npx', ['--no-install', 'kbackup', ...args], { cwd: app, encoding: 'utf8' });
    expect((await kbackup(['--version'])).stdout.trim()).toBe(pkg.version);

    const topic = uniqueTopic('packed');
    await createTopic(bootstrap, topic, { partitions: 2 });
    await produceRecords(
      bootstrap,
      topic,
      Array.from({ length: 40 }, (_, i) => ({
        partition: i % 2,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
      })),
    );
    const repo = tempRepo();
    const backup = JSON.parse(
      (await kbackup(['--json', 'backup', '--bootstrap', bootstrap, '--topics', topic, '--repo', repo]))
        .stdout,
    ) as { status: string; backupId: string; totals: { records: number } };
    expect(backup).toMatchObject({ status: 'complete', totals: { records: 40 } });
    const verify = JSON.parse(
      (await kbackup(['--json', 'verify', '--repo', repo, '--backup', backup.backupId])).stdout,
    ) as {
      ok: boolean;
    };
    expect(verify.ok).toBe(true);
  }, 300_000);
});
