import { readFileSync } from 'node:fs';
import { KbackupError } from '../core/errors.js';
import type { ClusterConfig, ConfigFile } from './schema.js';

/** Connection flags every command that talks to Kafka accepts (see addConnectionOptions). */
export interface ConnectionFlags {
  bootstrap?: string;
  cluster?: string;
  tls?: boolean;
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsServerName?: string;
  tlsInsecureSkipVerify?: boolean;
  saslMechanism?: string;
  saslUsername?: string;
  saslPasswordEnv?: string;
  saslPasswordFile?: string;
}

/** The TLS and SASL flags of ConnectionFlags, with the spelling a user typed. */
const SECURITY_FLAGS: [keyof ConnectionFlags, string][] = [
  ['tls', '--tls'],
  ['tlsCaFile', '--tls-ca-file'],
  ['tlsCertFile', '--tls-cert-file'],
  ['tlsKeyFile', '--tls-key-file'],
  ['tlsServerName', '--tls-server-name'],
  ['tlsInsecureSkipVerify', '--tls-insecure-skip-verify'],
  ['saslMechanism', '--sasl-mechanism'],
  ['saslUsername', '--sasl-username'],
  ['saslPasswordEnv', '--sasl-password-env'],
  ['saslPasswordFile', '--sasl-password-file'],
];

/** The TLS and SASL flags that have a value (from the command line, KBACKUP_* or the file's defaults). */
export function securityFlagsGiven(flags: ConnectionFlags): string[] {
  return SECURITY_FLAGS.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
}

/** Only the TLS and SASL flags of `flags`. */
export function securityFlagsOf(flags: ConnectionFlags): ConnectionFlags {
  const picked: Record<string, unknown> = {};
  for (const [key] of SECURITY_FLAGS) if (flags[key] !== undefined) picked[key] = flags[key];
  return picked;
}

export interface ResolvedConnection {
  bootstrap: string | undefined;
  /** Options for the Kafka client: TLS and SASL. Holds secrets: never log or print it. */
  security: Record<string, unknown>;
  warnings: string[];
  /** Secret values, so that output can be checked never to contain them. */
  secrets: string[];
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new KbackupError(
      'CONFIG',
      `cannot read ${what} from ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        hint: 'Check the path and that kbackup may read it.',
      },
    );
  }
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new KbackupError(
      'CONFIG',
      `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/**
 * Resolves bootstrap, TLS and SASL from the flags (and environment, already folded into the flags) over a
 * named cluster of the configuration file. Passwords come only from an environment variable or a file.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  config: ConfigFile | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedConnection {
  let cluster: ClusterConfig | undefined;
  if (flags.cluster !== undefined) {
    cluster = config?.clusters[flags.cluster];
    if (!cluster) {
      const known = Object.keys(config?.clusters ?? {});
      throw new KbackupError('CONFIG', `unknown cluster "${flags.cluster}"`, {
        hint:
          known.length > 0
            ? `Clusters in the configuration file: ${known.join(', ')}.`
            : 'Define it under clusters: in the file given with --config.',
      });
    }
  }
  const warnings: string[] = [];
  const secrets: string[] = [];
  const security: Record<string, unknown> = {};

  const tlsFromFile = cluster?.tls;
  const tlsEnabled = flags.tls ?? tlsFromFile?.enabled ?? false;
  const caFile = flags.tlsCaFile ?? tlsFromFile?.caFile;
  const certFile = flags.tlsCertFile ?? tlsFromFile?.certFile;
  const keyFile = flags.tlsKeyFile ?? tlsFromFile?.keyFile;
  const insecure = flags.tlsInsecureSkipVerify ?? tlsFromFile?.insecureSkipVerify ?? false;
  if (tlsEnabled || caFile !== undefined || certFile !== undefined) {
    if ((certFile === undefined) !== (keyFile === undefined)) {
      throw new KbackupError(
        'CONFIG',
        'a TLS client certificate needs both --tls-cert-file and --tls-key-file',
      );
    }
    if (insecure) {
      warnings.push(
        'TLS certificate verification is DISABLED (--tls-insecure-skip-verify): the connection can be intercepted',
      );
    }
    security.tls = {
      ...(caFile === undefined ? {} : { ca: readPem(caFile, 'CA file') }),
      ...(certFile === undefined ? {} : { cert: readPem(certFile, 'client certificate') }),
      ...(keyFile === undefined ? {} : { key: readPem(keyFile, 'client key') }),
      rejectUnauthorized: !insecure,
    };
    const serverName = flags.tlsServerName ?? tlsFromFile?.serverName;
    if (serverName !== undefined) security.tlsServerName = serverName;
  }

  const mechanism = flags.saslMechanism ?? cluster?.sasl?.mechanism;
  if (mechanism !== undefined) {
    const allowed = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
    if (!allowed.includes(mechanism)) {
      throw new KbackupError(
        'CONFIG',
        `--sasl-mechanism must be one of ${allowed.join(', ')}, got "${mechanism}"`,
      );
    }
    const username = flags.saslUsername ?? cluster?.sasl?.username;
    const passwordFile = flags.saslPasswordFile ?? cluster?.sasl?.passwordFile;
    const passwordEnv = flags.saslPasswordEnv ?? cluster?.sasl?.passwordEnv ?? 'KBACKUP_SASL_PASSWORD';
    if (mechanism === 'OAUTHBEARER') {
      const tokenFile = cluster?.sasl?.tokenFile;
      const token =
        tokenFile !== undefined
          ? readSecretFile(tokenFile, 'the OAUTHBEARER token')
          : env[cluster?.sasl?.tokenEnv ?? 'KBACKUP_SASL_TOKEN'];
      if (token === undefined || token === '') {
        throw new KbackupError('CONFIG', 'OAUTHBEARER needs a token', {
          hint: 'Set KBACKUP_SASL_TOKEN, or sasl.tokenEnv / sasl.tokenFile in the cluster config.',
        });
      }
      secrets.push(token);
      security.sasl = { mechanism, token };
    } else {
      if (username === undefined) {
        throw new KbackupError('CONFIG', `SASL ${mechanism} needs a username`, {
          hint: 'Pass --sasl-username or set sasl.username.',
        });
      }
      const password =
        passwordFile !== undefined ? readSecretFile(passwordFile, 'the SASL password') : env[passwordEnv];
      if (password === undefined || password === '') {
        throw new KbackupError(
          'CONFIG',
          `SASL ${mechanism} needs a password: environment variable ${passwordEnv} is not set`,
          {
            hint: 'Set it, or pass --sasl-password-file PATH (passwords are never taken from flags or the config file).',
          },
        );
      }
      secrets.push(password);
      security.sasl = { mechanism, username, password };
    }
  }
  return { bootstrap: flags.bootstrap ?? cluster?.bootstrap, security, warnings, secrets };
}
