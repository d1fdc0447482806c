import { describe, expect, inject, it } from 'vitest';
import { runCli, runCliJson, tempRepo } from '../support/cli.js';
import { createTopic, uniqueTopic } from '../support/kafka-helpers.js';

const bootstrap = inject('kafkaBootstrap');

interface DoctorJson {
  ok: boolean;
  checks: { name: string; status: string; detail: string }[];
}

describe('kbackup doctor', () => {
  it('passes against a healthy cluster and names every check', async () => {
    await createTopic(bootstrap, uniqueTopic('doctor'), { partitions: 1 });
    const result = await runCliJson<DoctorJson>(['doctor', '--bootstrap', bootstrap, '--repo', tempRepo()]);
    expect(result.ok).toBe(true);
    const status = Object.fromEntries(result.checks.map((c) => [c.name, c.status]));
    expect(status).toMatchObject({
      'connectivity and authentication': 'ok',
      'protocol versions': 'ok',
      'permission: list and describe topics': 'ok',
      'permission: read (fetch)': 'ok',
      'repository free space': expect.stringMatching(/^(ok|warn)$/) as unknown,
    });
  });

  it('exits non-zero and lists the problem against an unreachable cluster', async () => {
    const result = await runCli(['--json', '--retry-deadline', '2s', 'doctor', '--bootstrap', '127.0.0.1:1']);
    expect(result.code).toBe(6);
    const report = JSON.parse(result.stdout) as DoctorJson;
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([
      expect.objectContaining({
        name: 'connectivity and authentication',
        status: 'fail',
        detail: expect.stringContaining('cannot reach the Kafka cluster') as unknown,
      }),
    ]);
  });

  it('reports a missing repository as a problem', async () => {
    const result = await runCli(['doctor', '--bootstrap', bootstrap, '--repo', '/nonexistent/kbackup-repo']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/repository free space\s+FAIL/);
  });
});
