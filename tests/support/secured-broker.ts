import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka';
import { keepTempRoot, registerTempRoot, releaseTempRoot } from './java-process.js';
import { startCluster, type KafkaCluster } from './kafka-harness.js';
import { withAdmin } from './kafka-helpers.js';

const execFileAsync = promisify(execFile);

/** Throwaway PKI made with openssl: one CA for the broker and the client, and an unrelated second CA. */
export interface TlsMaterial {
  dir: string;
  /** PEM of the CA that signed the broker's and the client's certificates (give it to --tls-ca-file). */
  caFile: string;
  /** PEM of a CA that signed nothing here: verifying the broker against it must fail. */
  otherCaFile: string;
  /** Broker key and certificate chain as PKCS12 (what Kafka reads on 3.9 and 4.x alike). */
  serverKeystore: string;
  serverKeystorePassword: string;
  /** PEM client certificate and key for the mutual-TLS listener (subject CN=kbackup-test-client). */
  clientCertFile: string;
  clientKeyFile: string;
}

export const CLIENT_CERT_CN = 'kbackup-test-client';

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd: dir });
  } catch (error) {
    const e = error as Error & { stderr?: string };
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (openssl is not on PATH)' : '';
    throw new Error(`openssl ${args.join(' ')} failed${missing}: ${e.message}\n${e.stderr ?? ''}`);
  }
}

/** Elliptic-curve keys: generating them costs milliseconds, RSA keys would cost CPU the brokers need. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function selfSignedCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
  ]);
}

/** A key and a certificate signed by ca.pem with the given extensions (SAN, extended key usage). */
async function signedCert(dir: string, name: string, cn: string, extensions: string[]): Promise<void> {
  await openssl(dir, [
    'req',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ]);
}

export async function createTlsMaterial(dir: string): Promise<TlsMaterial> {
  await Promise.all([
    selfSignedCa(dir, 'ca', 'kbackup test CA'),
    selfSignedCa(dir, 'other-ca', 'unrelated test CA'),
  ]);
  // Clients connect to 127.0.0.1, and Node verifies an IP host against the certificate's IP SANs.
  await Promise.all([
    signedCert(dir, 'server', '127.0.0.1', [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
    ]),
    signedCert(dir, 'client', CLIENT_CERT_CN, ['extendedKeyUsage=clientAuth']),
  ]);
  const password = randomBytes(12).toString('hex');
  await openssl(dir, [
    'pkcs12',
    '-export',
    '-in',
    'server.pem',
    '-inkey',
    'server.key',
    '-certfile',
    'ca.pem',
    '-name',
    'broker',
    '-out',
    'server.p12',
    '-passout',
    `pass:${password}`,
  ]);
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    serverKeystore: join(dir, 'server.p12'),
    serverKeystorePassword: password,
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
  };
}

export interface ScramUser {
  name: string;
  /** Random per broker, so that "the secret never appears in the output" cannot pass by accident. */
  password: string;
}

export interface SecuredBroker {
  readonly cluster: KafkaCluster;
  readonly version: string;
  /**
   * The unauthenticated PLAINTEXT listener (also inter-broker), for test setup and the record oracle only:
   * its principal (ANONYMOUS) is a super user. kbackup itself is pointed at the listeners below.
   */
  readonly plainBootstrap: string;
  /** SASL over TLS, SCRAM-SHA-512 and SCRAM-SHA-256. */
  readonly saslSslBootstrap: string;
  /** SASL without TLS, SCRAM-SHA-512 and SCRAM-SHA-256. */
  readonly saslPlaintextBootstrap: string;
  /** TLS that requires a client certificate signed by the test CA (principal User:CN=kbackup-test-client). */
  readonly mtlsBootstrap: string;
  readonly tls: TlsMaterial;
  /** Super user. */
  readonly admin: ScramUser;
  /** May describe and read every topic, and nothing else: no WRITE, no CREATE. */
  readonly reader: ScramUser;
  stop(): Promise<void>;
  keepLogs(): void;
}

const SCRAM_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const;
const SCRAM_LOGIN = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';

/** Broker settings for the three secured listeners; see the comments for the choices. */
function securityConfig(tls: TlsMaterial): Record<string, string> {
  const config: Record<string, string> = {
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': tls.serverKeystore,
    'ssl.keystore.password': tls.serverKeystorePassword,
    'ssl.key.password': tls.serverKeystorePassword,
    // A PEM truststore needs no password (KIP-651, Kafka 2.7+); it verifies client certificates on MTLS.
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': tls.caFile,
    'listener.name.mtls.ssl.client.auth': 'required',
    'sasl.enabled.mechanisms': SCRAM_MECHANISMS.join(','),
    // The authorizer makes a restricted user possible. The broker talks to its own controller and to itself
    // over PLAINTEXT as ANONYMOUS, so ANONYMOUS must be a super user too; the PLAINTEXT port is loopback-only.
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:admin;User:ANONYMOUS;User:CN=${CLIENT_CERT_CN}`,
  };
  // Brokers need a JAAS entry per listener and SCRAM mechanism even though the credentials live in the
  // metadata log.
  for (const listener of ['sasl_ssl', 'sasl_plaintext']) {
    for (const mechanism of SCRAM_MECHANISMS) {
      config[`listener.name.${listener}.${mechanism.toLowerCase()}.sasl.jaas.config`] = SCRAM_LOGIN;
    }
  }
  return config;
}

/** `--add-scram` arguments: the users exist from the first start, with no window where they do not. */
function scramFormatArgs(users: ScramUser[]): string[] {
  return users.flatMap((u) =>
    SCRAM_MECHANISMS.flatMap((m) => ['--add-scram', `${m}=[name=${u.name},password=${u.password}]`]),
  );
}

/** Lets `reader` describe and read every topic (and its configs); everything else stays denied. */
async function grantReader(bootstrap: string, reader: string): Promise<void> {
  const operations = [AclOperations.DESCRIBE, AclOperations.READ, AclOperations.DESCRIBE_CONFIGS];
  await withAdmin(bootstrap, (admin) =>
    admin.createAcls({
      creations: operations.map((operation) => ({
        resourceType: ResourceTypes.TOPIC,
        resourceName: '*',
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: `User:${reader}`,
        host: '*',
        operation,
        permissionType: AclPermissionTypes.ALLOW,
      })),
    }),
  );
}

/**
 * Starts a single-node KRaft broker (a real JVM, like startCluster) with SASL_SSL, SASL_PLAINTEXT and mutual
 * TLS listeners, a throwaway CA made with openssl, SCRAM users created at format time, and StandardAuthorizer.
 */
export async function startSecuredBroker(
  options: { name?: string; version?: string } = {},
): Promise<SecuredBroker> {
  const tlsRoot = mkdtempSync(join(tmpdir(), 'kbackup-tls-'));
  registerTempRoot(tlsRoot);
  let cluster: KafkaCluster | undefined;
  try {
    const tls = await createTlsMaterial(tlsRoot);
    const admin = { name: 'admin', password: `admin-${randomBytes(9).toString('hex')}` };
    const reader = { name: 'reader', password: `reader-${randomBytes(9).toString('hex')}` };
    cluster = await startCluster({
      nodes: 1,
      name: options.name ?? 'secured',
      ...(options.version === undefined ? {} : { version: options.version }),
      extraListeners: [
        { name: 'SASL_SSL', protocol: 'SASL_SSL' },
        { name: 'SASL_PLAINTEXT', protocol: 'SASL_PLAINTEXT' },
        { name: 'MTLS', protocol: 'SSL' },
      ],
      brokerConfig: securityConfig(tls),
      formatArgs: scramFormatArgs([admin, reader]),
    });
    await grantReader(cluster.bootstrap, reader.name);
    const node = cluster.nodes[0];
    if (!node) throw new Error('the secured cluster has no node');
    const at = (listener: string): string => `127.0.0.1:${String(node.listenerPorts[listener])}`;
    const started = cluster;
    return {
      cluster,
      version: cluster.version,
      plainBootstrap: cluster.bootstrap,
      saslSslBootstrap: at('SASL_SSL'),
      saslPlaintextBootstrap: at('SASL_PLAINTEXT'),
      mtlsBootstrap: at('MTLS'),
      tls,
      admin,
      reader,
      stop: async () => {
        await started.stop();
        releaseTempRoot(tlsRoot);
      },
      keepLogs: () => {
        started.keepLogs();
        keepTempRoot(tlsRoot);
      },
    };
  } catch (error) {
    await cluster?.stop();
    releaseTempRoot(tlsRoot);
    throw error;
  }
}
