import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { runCli, tempRepo, type CliResult } from '../support/cli.js';
import { expectSameRecords } from '../support/compare.js';
import { edgeCaseRecords } from '../support/data.js';
import { createTopic, produceRecords, readAllRecords, uniqueTopic } from '../support/kafka-helpers.js';
import { startSecuredBroker, type SecuredBroker } from '../support/secured-broker.js';

/** The plain broker shared by the integration suite: migrate's target on another cluster. */
const sharedBootstrap = inject('kafkaBootstrap');

/** Passwords reach kbackup through this variable (named by passwordEnv in the file). */
const PASSWORD_ENV = 'KBACKUP_TEST_SECURED_PASSWORD';

interface DoctorJson {
  ok: boolean;
  checks: { name: string; status: string; detail: string; errorCode?: string }[];
}
interface BackupJson {
  backupId: string;
  totals: { records: number };
}
interface MigrateJson {
  status: string;
  sameCluster: boolean;
  totals: { records: number };
}
interface ErrorJson {
  status: string;
  error: { code: string; message: string; hint: string | null; canRetry: boolean };
  exitCode: number;
}

const withOffsets = { compareOffsets: true };

/**
 * Every test here starts from a secured broker of its own (a JVM, even when KBACKUP_TEST_BOOTSTRAP names an
 * external broker: that one has no SASL or TLS listeners we know of). Test data is seeded and read back
 * through the broker's unauthenticated PLAINTEXT listener, so the oracle does not depend on the code under
 * test; kbackup is only ever pointed at the secured listeners.
 */
describe('SASL/SCRAM and TLS against a real secured broker', () => {
  let broker: SecuredBroker | undefined;
  const dir = tempRepo('kbackup-security-');
  const configPath = join(dir, 'kbackup.yaml');
  const passwordFile = join(dir, 'password');
  const topic = uniqueTopic('secured');
  const PARTITIONS = 3;

  const secured = (): SecuredBroker => {
    if (!broker) throw new Error('the secured broker did not start');
    return broker;
  };

  /** Runs the CLI and asserts, for every run, that no password ever reaches stdout or stderr. */
  const cli = async (args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const b = secured();
    // A deadline far beyond any retry budget: a failure that is retried until --retry-deadline is killed
    // and fails the exit-code assertion, instead of hiding in a long run.
    const result = await runCli(args, { env, timeoutMs: 120_000 });
    for (const secret of [b.admin.password, b.reader.password, ...Object.values(env)]) {
      expect(result.stdout + result.stderr, 'a secret was printed').not.toContain(secret);
    }
    return result;
  };
  const adminEnv = (): Record<string, string> => ({ [PASSWORD_ENV]: secured().admin.password });
  /** The --json document of a run that exited `code` (the document's type is the caller's to state). */
  const json = (result: CliResult, code = 0): unknown => {
    expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(code);
    return JSON.parse(result.stdout);
  };
  const expectCleanError = (result: CliResult): void => {
    // A user error: a message and a hint, never a stack trace.
    expect(result.stderr).toMatch(/^kbackup: error: /m);
    expect(result.stderr).toMatch(/^ {2}hint: /m);
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  };

  beforeAll(async () => {
    const started = Date.now();
    broker = await startSecuredBroker({ name: 'security' });
    console.log(
      `secured Kafka ${broker.version} ready in ${Date.now() - started} ms: SASL_SSL ${broker.saslSslBootstrap}, ` +
        `SASL_PLAINTEXT ${broker.saslPlaintextBootstrap}, mTLS ${broker.mtlsBootstrap}`,
    );
    await createTopic(broker.plainBootstrap, topic, { partitions: PARTITIONS });
    await produceRecords(broker.plainBootstrap, topic, edgeCaseRecords(PARTITIONS, 60, 11));
    writeFileSync(passwordFile, `${broker.admin.password}\n`, { mode: 0o600 });
    const { tls } = broker;
    writeFileSync(
      configPath,
      [
        'clusters:',
        '  secured: # SASL_SSL, SCRAM-SHA-512, password from the environment',
        `    bootstrap: "${broker.saslSslBootstrap}"`,
        `    tls: { caFile: "${tls.caFile}" }`,
        `    sasl: { mechanism: SCRAM-SHA-512, username: admin, passwordEnv: ${PASSWORD_ENV} }`,
        '  secured-plaintext: # SASL_PLAINTEXT, SCRAM-SHA-256, password from a file',
        `    bootstrap: "${broker.saslPlaintextBootstrap}"`,
        `    sasl: { mechanism: SCRAM-SHA-256, username: admin, passwordFile: "${passwordFile}" }`,
        '  secured-reader: # may describe and read topics, nothing else',
        `    bootstrap: "${broker.saslSslBootstrap}"`,
        `    tls: { caFile: "${tls.caFile}" }`,
        `    sasl: { mechanism: SCRAM-SHA-512, username: reader, passwordEnv: ${PASSWORD_ENV} }`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await broker?.stop();
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      broker?.keepLogs();
    });
  });

  it('doctor reports a healthy cluster over SASL_SSL with SCRAM-SHA-512', async () => {
    const report = json(
      await cli(['--json', '--config', configPath, 'doctor', '--cluster', 'secured'], adminEnv()),
    ) as DoctorJson;
    expect(report.ok).toBe(true);
    const status = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
    expect(status).toMatchObject({
      'connectivity and authentication': 'ok',
      'protocol versions': 'ok',
      'permission: list and describe topics': 'ok',
      'permission: read (fetch)': 'ok',
    });
    // The broker it reached is the one behind the SASL_SSL listener.
    expect(report.checks[0]?.detail).toContain(secured().saslSslBootstrap);
  });

  it('backs up over SASL_SSL and restores into another topic over it, record for record, secrets unprinted at trace level', async () => {
    const repo = tempRepo();
    const copy = `${topic}-restored`;
    const base = ['--config', configPath, '--log-level', 'trace'];
    const backup = json(
      await cli(
        [...base, '--json', 'backup', '--cluster', 'secured', '--topics', topic, '--repo', repo],
        adminEnv(),
      ),
    ) as BackupJson;
    expect(backup.totals.records).toBe(PARTITIONS * 60);
    const restore = await cli(
      [
        ...base,
        'restore',
        '--cluster',
        'secured',
        '--repo',
        repo,
        '--backup',
        backup.backupId,
        '--rename',
        `${topic}=${copy}`,
      ],
      adminEnv(),
    );
    expect(restore.code, restore.stderr).toBe(0);
    const plain = secured().plainBootstrap;
    expectSameRecords(await readAllRecords(plain, copy), await readAllRecords(plain, topic), withOffsets);
  });

  it('backs up over SASL_PLAINTEXT with SCRAM-SHA-256 and a password file', async () => {
    const b = secured();
    // The same listener twice: once through the file's cluster, once through flags alone.
    const fromFile = json(
      await cli([
        '--json',
        '--config',
        configPath,
        'backup',
        '--cluster',
        'secured-plaintext',
        '--topics',
        topic,
        '--repo',
        tempRepo(),
      ]),
    ) as BackupJson;
    expect(fromFile.totals.records).toBe(PARTITIONS * 60);
    const fromFlags = json(
      await cli([
        '--json',
        'doctor',
        '--bootstrap',
        b.saslPlaintextBootstrap,
        '--sasl-mechanism',
        'SCRAM-SHA-256',
        '--sasl-username',
        'admin',
        '--sasl-password-file',
        passwordFile,
      ]),
    ) as DoctorJson;
    expect(fromFlags.ok).toBe(true);
  });

  it('connects with a client certificate to a listener that requires one (mutual TLS)', async () => {
    const { tls, mtlsBootstrap } = secured();
    const report = json(
      await cli([
        '--json',
        'doctor',
        '--bootstrap',
        mtlsBootstrap,
        '--tls-ca-file',
        tls.caFile,
        '--tls-cert-file',
        tls.clientCertFile,
        '--tls-key-file',
        tls.clientKeyFile,
      ]),
    ) as DoctorJson;
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'permission: read (fetch)')?.status).toBe('ok');
  });

  it('a wrong password fails at once with exit 7, naming SASL authentication, without a stack trace', async () => {
    const wrong = { [PASSWORD_ENV]: `wrong-${randomBytes(6).toString('hex')}` };
    const args = ['--config', configPath, '--log-level', 'trace', '--retry-deadline', '10m'];
    const backup = await cli(
      [...args, 'backup', '--cluster', 'secured', '--topics', topic, '--repo', tempRepo()],
      wrong,
    );
    expect(backup.code).toBe(7);
    expect(backup.stderr).toMatch(/SASL authentication failed \(.*invalid credentials.*SCRAM-SHA-512\)/);
    expect(backup.stderr).toContain('--sasl-password-env');
    // --log-level trace prints the error's stack on purpose; without it, none.
    const quietArgs = ['--config', configPath, '--retry-deadline', '10m', '--json'];
    const failed = await cli(
      [...quietArgs, 'backup', '--cluster', 'secured', '--topics', topic, '--repo', tempRepo()],
      wrong,
    );
    const document = json(failed, 7) as ErrorJson;
    expect(document.error).toMatchObject({ code: 'AUTHENTICATION', canRetry: false });
    expectCleanError(failed);

    const doctor = json(await cli([...quietArgs, 'doctor', '--cluster', 'secured'], wrong), 7) as DoctorJson;
    expect(doctor.checks).toEqual([
      expect.objectContaining({
        name: 'connectivity and authentication',
        status: 'fail',
        errorCode: 'AUTHENTICATION',
        detail: expect.stringContaining('SASL authentication failed') as unknown,
      }),
    ]);
  });

  it('a broker certificate from an unknown CA fails with exit 7 and names the certificate', async () => {
    const { tls, saslSslBootstrap } = secured();
    const connect = [
      '--sasl-mechanism',
      'SCRAM-SHA-512',
      '--sasl-username',
      'admin',
      '--sasl-password-env',
      PASSWORD_ENV,
    ];
    for (const trust of [['--tls-ca-file', tls.otherCaFile], ['--tls']]) {
      // First the wrong CA, then no CA at all (the system's roots, which never signed the test CA).
      const result = await cli(
        [
          '--retry-deadline',
          '10m',
          'backup',
          '--bootstrap',
          saslSslBootstrap,
          ...trust,
          ...connect,
          '--topics',
          topic,
          '--repo',
          tempRepo(),
        ],
        adminEnv(),
      );
      expect(result.code, trust.join(' ')).toBe(7);
      expect(result.stderr).toMatch(
        /its certificate is not trusted \(self[- ]signed certificate in certificate chain\)/,
      );
      expect(result.stderr).toContain('--tls-ca-file');
      expectCleanError(result);
    }
  });

  it('plaintext against the SASL_SSL listener is refused with exit 7 and a hint to use TLS', async () => {
    const result = await cli([
      'backup',
      '--bootstrap',
      secured().saslSslBootstrap,
      '--topics',
      topic,
      '--repo',
      tempRepo(),
    ]);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('the listener requires TLS');
    expect(result.stderr).toContain('--tls');
    expectCleanError(result);
  });

  it('a principal without WRITE backs up, and its restore is refused as not authorized (exit 1)', async () => {
    const env = { [PASSWORD_ENV]: secured().reader.password };
    const repo = tempRepo();
    const base = ['--config', configPath, '--json'];
    const backup = json(
      await cli([...base, 'backup', '--cluster', 'secured-reader', '--topics', topic, '--repo', repo], env),
    ) as BackupJson;
    expect(backup.totals.records).toBe(PARTITIONS * 60);
    const restore = await cli(
      [
        ...base,
        'restore',
        '--cluster',
        'secured-reader',
        '--repo',
        repo,
        '--backup',
        backup.backupId,
        '--rename',
        `${topic}=${topic}-denied`,
      ],
      env,
    );
    const document = json(restore, 1) as ErrorJson;
    expect(document.error.message).toMatch(/not authorized \(TOPIC_AUTHORIZATION_FAILED\)/);
    expect(document.error.hint).toContain('ACL');
    expectCleanError(restore);
  });

  describe('migrate with TLS and SASL per side', () => {
    it('copies from a named secured source cluster to a plain target, record for record', async () => {
      const copy = uniqueTopic('secured-migrated');
      const result = json(
        await cli(
          [
            '--json',
            '--config',
            configPath,
            'migrate',
            '--source-cluster',
            'secured',
            '--target-bootstrap',
            sharedBootstrap,
            '--topics',
            topic,
            '--rename',
            `${topic}=${copy}`,
            '--state-dir',
            tempRepo('kbackup-migrate-'),
          ],
          adminEnv(),
        ),
      ) as MigrateJson;
      expect(result).toMatchObject({
        status: 'complete',
        sameCluster: false,
        totals: { records: PARTITIONS * 60 },
      });
      expectSameRecords(
        await readAllRecords(sharedBootstrap, copy),
        await readAllRecords(secured().plainBootstrap, topic),
        withOffsets,
      );
    });

    it('applies the TLS and SASL flags to the side without a named cluster', async () => {
      const b = secured();
      const copy = `${topic}-flags-to-cluster`;
      // Source: SASL_PLAINTEXT through flags. Target: the same broker's SASL_SSL listener, by name. Were the
      // flags applied to the target as well, it would speak plaintext to a TLS listener and fail.
      const result = json(
        await cli(
          [
            '--json',
            '--config',
            configPath,
            'migrate',
            '--source-bootstrap',
            b.saslPlaintextBootstrap,
            '--sasl-mechanism',
            'SCRAM-SHA-256',
            '--sasl-username',
            'admin',
            '--sasl-password-file',
            passwordFile,
            '--target-cluster',
            'secured',
            '--topics',
            topic,
            '--rename',
            `${topic}=${copy}`,
            '--state-dir',
            tempRepo('kbackup-migrate-'),
          ],
          adminEnv(),
        ),
      ) as MigrateJson;
      expect(result).toMatchObject({
        status: 'complete',
        sameCluster: true,
        totals: { records: PARTITIONS * 60 },
      });
      expectSameRecords(
        await readAllRecords(b.plainBootstrap, copy),
        await readAllRecords(b.plainBootstrap, topic),
        withOffsets,
      );
    });

    it('refuses TLS or SASL flags that would apply to neither named side', async () => {
      const result = await cli(
        [
          '--config',
          configPath,
          'migrate',
          '--source-cluster',
          'secured',
          '--target-cluster',
          'secured-plaintext',
          '--tls-ca-file',
          secured().tls.caFile,
          '--topics',
          topic,
        ],
        adminEnv(),
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--tls-ca-file would apply to neither side');
      expectCleanError(result);
    });
  });
});
