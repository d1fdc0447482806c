import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConnection, securityFlagsGiven, securityFlagsOf } from '../../../src/config/connection.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { configFileSchema } from '../../../src/config/schema.js';
import { KbackupError } from '../../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kbackup-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(fn: () => unknown): KbackupError {
  try {
    fn();
  } catch (error) {
    if (error instanceof KbackupError) return error;
    throw error;
  }
  throw new Error('expected a KbackupError');
}

describe('loadConfigFile', () => {
  it('reads clusters, defaults and per-command options', () => {
    const config = loadConfigFile(
      file(
        'ok.yaml',
        'clusters:\n  prod:\n    bootstrap: "b1:9092,b2:9092"\n    sasl: {mechanism: SCRAM-SHA-512, username: backup, passwordEnv: PROD_PW}\ndefaults:\n  repo: /backups\ncommands:\n  backup: {codec: lz4, topics: [a, b]}\n',
      ),
    );
    expect(config.clusters.prod?.bootstrap).toBe('b1:9092,b2:9092');
    expect(config.defaults.repo).toBe('/backups');
    expect(config.commands.backup?.topics).toEqual(['a', 'b']);
  });

  it('names the bad key and the fix', () => {
    const error = errorOf(() => loadConfigFile(file('bad.yaml', 'clusters:\n  prod:\n    bootstrp: x\n')));
    expect(error.code).toBe('CONFIG');
    expect(error.exitCode).toBe(7);
    expect(error.message).toContain('clusters.prod.bootstrap');
    expect(error.message).toContain('unknown key: bootstrp');
    expect(error.hint).toMatch(/docs\/CONFIGURATION.md/);
  });

  it('refuses a password written into the file', () => {
    const error = errorOf(() =>
      loadConfigFile(
        file(
          'pw.yaml',
          'clusters:\n  p:\n    bootstrap: b:1\n    sasl: {mechanism: PLAIN, username: u, password: hunter2}\n',
        ),
      ),
    );
    expect(error.message).toContain('unknown key: password');
  });

  it('reports unreadable files and invalid YAML as config errors', () => {
    expect(errorOf(() => loadConfigFile(join(dir, 'missing.yaml'))).code).toBe('CONFIG');
    expect(errorOf(() => loadConfigFile(file('yaml.yaml', 'clusters: [unclosed'))).message).toMatch(
      /not valid YAML/,
    );
  });
});

describe('resolveConnection', () => {
  const config = configFileSchema.parse({
    clusters: {
      prod: {
        bootstrap: 'p:9092',
        sasl: { mechanism: 'SCRAM-SHA-256', username: 'svc', passwordEnv: 'PROD_PW' },
      },
      tls: { bootstrap: 't:9093', tls: { insecureSkipVerify: true } },
    },
  });

  it('takes bootstrap and SASL from a named cluster, the password from the environment', () => {
    const r = resolveConnection({ cluster: 'prod' }, config, { PROD_PW: 's3cret' });
    expect(r.bootstrap).toBe('p:9092');
    expect(r.security.sasl).toEqual({ mechanism: 'SCRAM-SHA-256', username: 'svc', password: 's3cret' });
    expect(r.secrets).toEqual(['s3cret']);
  });

  it('lets flags win over the cluster', () => {
    const r = resolveConnection({ cluster: 'prod', bootstrap: 'flag:1', saslUsername: 'other' }, config, {
      PROD_PW: 'x',
    });
    expect(r.bootstrap).toBe('flag:1');
    expect(r.security.sasl).toMatchObject({ username: 'other' });
  });

  it('reads the password from a file', () => {
    const r = resolveConnection(
      { saslMechanism: 'PLAIN', saslUsername: 'u', saslPasswordFile: file('pw', 'from-file\n') },
      undefined,
      {},
    );
    expect(r.security.sasl).toMatchObject({ password: 'from-file' });
  });

  it('explains a missing password, an unknown cluster and a bad mechanism', () => {
    expect(errorOf(() => resolveConnection({ cluster: 'prod' }, config, {})).message).toMatch(
      /PROD_PW is not set/,
    );
    const unknown = errorOf(() => resolveConnection({ cluster: 'nope' }, config, {}));
    expect(unknown.message).toBe('unknown cluster "nope"');
    expect(unknown.hint).toContain('prod, tls');
    expect(
      errorOf(() => resolveConnection({ saslMechanism: 'GSSAPI', saslUsername: 'u' }, undefined, {})).message,
    ).toMatch(/must be one of/);
  });

  it('warns loudly when certificate verification is off', () => {
    const r = resolveConnection({ cluster: 'tls' }, config, {});
    expect(r.warnings).toEqual([expect.stringMatching(/verification is DISABLED/)]);
    expect(r.security.tls).toMatchObject({ rejectUnauthorized: false });
  });

  it('needs both halves of a client certificate', () => {
    expect(
      errorOf(() => resolveConnection({ tls: true, tlsCertFile: file('c.pem', 'x') }, undefined, {})).message,
    ).toMatch(/both --tls-cert-file and --tls-key-file/);
  });
});

describe('security flags (migrate applies them per side)', () => {
  it('picks only the TLS and SASL flags, and names the ones given as typed', () => {
    const flags = {
      bootstrap: 'b:1',
      cluster: 'prod',
      tls: true,
      tlsCaFile: '/ca.pem',
      saslPasswordFile: '/pw',
      saslUsername: undefined,
    };
    expect(securityFlagsOf(flags)).toEqual({ tls: true, tlsCaFile: '/ca.pem', saslPasswordFile: '/pw' });
    expect(securityFlagsGiven(flags)).toEqual(['--tls', '--tls-ca-file', '--sasl-password-file']);
    expect(securityFlagsGiven({ bootstrap: 'b:1', cluster: 'prod' })).toEqual([]);
  });
});
