import { request } from 'node:http';
import type { TestProject } from 'vitest/node';
import { startCluster, type KafkaCluster } from './kafka-harness.js';
import { getMetadata } from './kafka-helpers.js';
import { startDockerKafka } from './docker-kafka.js';
import { describeError } from './wait.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** "host:port[,host:port...]" of the Kafka cluster shared by the integration suite. */
    kafkaBootstrap: string;
  }
}

/** Where a Docker engine would answer: DOCKER_HOST (unix:// or tcp://) or the default socket. */
function dockerEndpoint(): { socketPath: string } | { host: string; port: number } | undefined {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost === undefined || dockerHost === '') return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const tcp = /^tcp:\/\/([^:/]+):(\d+)/.exec(dockerHost);
  if (tcp?.[1] !== undefined && tcp[2] !== undefined) return { host: tcp[1], port: Number(tcp[2]) };
  return undefined; // ssh:// etc.: not probed, so not used.
}

/** True when a Docker engine answers GET /_ping with OK within two seconds. */
export function dockerAvailable(): Promise<boolean> {
  const endpoint = dockerEndpoint();
  if (!endpoint) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ ...endpoint, path: '/_ping', method: 'GET', timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve(res.statusCode === 200 && body.trim() === 'OK');
      });
    });
    req.on('timeout', () => {
      req.destroy();
    });
    req.on('error', () => {
      resolve(false);
    });
    req.end();
  });
}

interface Provided {
  bootstrap: string;
  source: string;
  stop: (keepLogs: boolean) => Promise<void>;
}

async function fromEnv(bootstrap: string): Promise<Provided> {
  try {
    const metadata = await getMetadata(bootstrap);
    console.log(`kafka: using KBACKUP_TEST_BOOTSTRAP=${bootstrap} (${metadata.brokers.size} broker(s))`);
  } catch (error) {
    throw new Error(
      `KBACKUP_TEST_BOOTSTRAP=${bootstrap} does not answer a metadata request: ${describeError(error)}`,
    );
  }
  return { bootstrap, source: 'KBACKUP_TEST_BOOTSTRAP', stop: () => Promise.resolve() };
}

async function fromJvm(): Promise<Provided> {
  const started = Date.now();
  let cluster: KafkaCluster;
  try {
    cluster = await startCluster({ nodes: 1, name: 'integration' });
  } catch (error) {
    throw new Error(
      'No Kafka for the integration tests: KBACKUP_TEST_BOOTSTRAP is unset, no Docker engine answers, and ' +
        'the local JVM broker failed to start. It needs Java 17+ on PATH, and Maven plus access to Maven ' +
        `Central on first use (scripts/kafka-jars.sh caches the jars).\n${describeError(error)}`,
      { cause: error },
    );
  }
  const node = cluster.nodes[0];
  console.log(
    `kafka: started Kafka ${cluster.version} as a local JVM at ${cluster.bootstrap} in ${Date.now() - started} ms` +
      ` (log: ${node?.logFile ?? '?'})`,
  );
  return {
    bootstrap: cluster.bootstrap,
    source: 'jvm',
    stop: async (keepLogs) => {
      if (keepLogs) cluster.keepLogs();
      await cluster.stop();
    },
  };
}

/**
 * vitest globalSetup for the integration project: one Kafka for the whole run, from (1) KBACKUP_TEST_BOOTSTRAP,
 * (2) a Docker engine via testcontainers, or (3) a local JVM broker. Never skips: no Kafka is an error.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const envBootstrap = process.env.KBACKUP_TEST_BOOTSTRAP;
  let provided: Provided | undefined;
  if (envBootstrap !== undefined && envBootstrap !== '') {
    provided = await fromEnv(envBootstrap);
  } else if (await dockerAvailable()) {
    try {
      const docker = await startDockerKafka();
      provided = { bootstrap: docker.bootstrap, source: 'docker', stop: () => docker.stop() };
      console.log(`kafka: started ${docker.image} with testcontainers at ${docker.bootstrap}`);
    } catch (error) {
      console.warn(
        `kafka: Docker answered but the container failed (${describeError(error)}); using a JVM broker`,
      );
    }
  }
  provided ??= await fromJvm();
  project.provide('kafkaBootstrap', provided.bootstrap);
  const { stop } = provided;
  return async () => {
    let failed = 0;
    try {
      // Not part of vitest's stable API; it only decides whether broker logs are worth keeping.
      failed = project.vitest.state.getCountOfFailedTests();
    } catch {
      failed = 0;
    }
    await stop(process.env.KBACKUP_KEEP_LOGS === '1' || failed > 0);
  };
}
