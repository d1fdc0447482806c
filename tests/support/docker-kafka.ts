import { randomBytes } from 'node:crypto';
import { clusterSettings } from './broker-config.js';
import { getMetadata } from './kafka-helpers.js';
import { defaultKafkaVersion, freePorts } from './kafka-install.js';
import { pollUntil } from './wait.js';

export interface DockerKafka {
  image: string;
  bootstrap: string;
  stop(): Promise<void>;
}

/** Kafka property name to the apache/kafka image's env name: '.' -> '_', '_' -> '__', '-' -> '___'. */
function envName(property: string): string {
  return 'KAFKA_' + property.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase();
}

/**
 * One KRaft node of the official image via testcontainers (loaded only here, so runs without Docker never
 * import it). The container listens on the same port number it is published on, so the advertised address is
 * known before start. The broker's connections to itself (e.g. transaction markers) use an in-container listener.
 */
export async function startDockerKafka(
  image = process.env.KBACKUP_KAFKA_IMAGE ?? `apache/kafka:${defaultKafkaVersion()}`,
): Promise<DockerKafka> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const runtime = await getContainerRuntimeClient();
  const runtimeHost = runtime.info.containerRuntime.host;
  // Node may resolve "localhost" to ::1 while Docker publishes on IPv4.
  const host = runtimeHost === 'localhost' ? '127.0.0.1' : runtimeHost;
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  const version = /:(\d+\.\d+\.\d+)/.exec(image)?.[1] ?? defaultKafkaVersion();
  const env: Record<string, string> = {
    CLUSTER_ID: randomBytes(16).toString('base64url').replace(/^-/, 'A'),
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: `EXTERNAL://0.0.0.0:${port},INTERNAL://localhost:19092,CONTROLLER://localhost:19093`,
    KAFKA_ADVERTISED_LISTENERS: `EXTERNAL://${host}:${port},INTERNAL://localhost:19092`,
    KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT',
    KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:19093',
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
  };
  for (const [k, v] of Object.entries(clusterSettings(1, version))) env[envName(k)] = v;
  const container = await new GenericContainer(image)
    .withEnvironment(env)
    .withExposedPorts({ container: port, host: port })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(180_000)
    .start();
  const bootstrap = `${host}:${port}`;
  try {
    await pollUntil(async () => (await getMetadata(bootstrap)).brokers.size >= 1, {
      timeoutMs: 60_000,
      description: `the ${image} container to answer metadata at ${bootstrap}`,
    });
  } catch (error) {
    await container.stop();
    throw error;
  }
  return {
    image,
    bootstrap,
    stop: async () => {
      await container.stop();
    },
  };
}
