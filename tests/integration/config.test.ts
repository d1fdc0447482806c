import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, runCliJson, tempRepo } from '../support/cli.js';
import { createTopic, produceRecords, uniqueTopic } from '../support/kafka-helpers.js';

const bootstrap = inject('kafkaBootstrap');

async function codecOf(repo: string, backupId: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(repo, 'backups', backupId, 'manifest.json'), 'utf8')) as {
    options: { codec: string };
  };
  return manifest.options.codec;
}

describe('configuration: file, environment and flags', () => {
  const topic = uniqueTopic('config');
  const repo = tempRepo();
  let configPath = '';

  beforeAll(async () => {
    await createTopic(bootstrap, topic, { partitions: 1 });
    await produceRecords(bootstrap, topic, [
      { partition: 0, key: Buffer.from('k'), value: Buffer.from('v') },
    ]);
    configPath = join(repo, 'kbackup.yaml');
    await writeFile(
      configPath,
      `clusters:\n  local:\n    bootstrap: "${bootstrap}"\ndefaults:\n  repo: ${repo}\ncommands:\n  backup:\n    codec: lz4\n    topics: ${topic}\n`,
    );
  });

  it('flags win over the environment, and the environment over the file', async () => {
    await runCliJson(['--config', configPath, 'backup', '--cluster', 'local', '--backup-id', 'from-file']);
    expect(await codecOf(repo, 'from-file')).toBe('lz4');

    const env = await runCli(
      ['--json', '--config', configPath, 'backup', '--cluster', 'local', '--backup-id', 'from-env'],
      { env: { KBACKUP_CODEC: 'gzip' } },
    );
    expect(env.code).toBe(0);
    expect(await codecOf(repo, 'from-env')).toBe('gzip');

    const flag = await runCli(
      [
        '--json',
        '--config',
        configPath,
        'backup',
        '--cluster',
        'local',
        '--backup-id',
        'from-flag',
        '--codec',
        'snappy',
      ],
      { env: { KBACKUP_CODEC: 'gzip' } },
    );
    expect(flag.code).toBe(0);
    expect(await codecOf(repo, 'from-flag')).toBe('snappy');
  });

  it('takes every option from KBACKUP_* variables alone', async () => {
    const result = await runCli(['--json', 'backup', '--backup-id', 'env-only'], {
      env: { KBACKUP_BOOTSTRAP: bootstrap, KBACKUP_TOPICS: topic, KBACKUP_REPO: repo, KBACKUP_CODEC: 'none' },
    });
    expect(result.code).toBe(0);
    expect(await codecOf(repo, 'env-only')).toBe('none');
  });

  it('rejects a bad configuration file with exit 7, naming the key', async () => {
    const bad = join(repo, 'bad.yaml');
    await writeFile(bad, 'clusters:\n  local:\n    bootstrap: x:1\n    tls: {enabld: true}\n');
    const result = await runCli(['--config', bad, 'list', '--repo', repo]);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('clusters.local.tls');
    expect(result.stderr).toContain('unknown key: enabld');
  });

  it('never prints a secret, even at trace level and on failure', async () => {
    const secret = 'sup3r-s3cret-pa55word';
    // The broker has no SASL listener: authentication fails, and the password must appear nowhere.
    const result = await runCli(
      [
        '--json',
        '--log-level',
        'trace',
        '--retry-deadline',
        '2s',
        'backup',
        '--bootstrap',
        bootstrap,
        '--topics',
        topic,
        '--repo',
        repo,
        '--sasl-mechanism',
        'PLAIN',
        '--sasl-username',
        'svc',
      ],
      { env: { KBACKUP_SASL_PASSWORD: secret } },
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('warns loudly when TLS verification is disabled, even under --quiet', async () => {
    const result = await runCli([
      '--quiet',
      '--retry-deadline',
      '2s',
      'backup',
      '--bootstrap',
      bootstrap,
      '--topics',
      topic,
      '--repo',
      repo,
      '--tls',
      '--tls-insecure-skip-verify',
    ]);
    expect(result.stderr).toMatch(/WARNING: TLS certificate verification is DISABLED/);
  });
});
