import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const JARS_SCRIPT = fileURLToPath(new URL('../../scripts/kafka-jars.sh', import.meta.url));

export function defaultKafkaVersion(): string {
  return process.env.KBACKUP_KAFKA_VERSION ?? '4.1.2';
}

/** Runs scripts/kafka-jars.sh (Maven Central, cached) and returns the libs directory. */
export async function resolveKafkaLibs(version: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync('bash', [JARS_SCRIPT, version], {
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const dir = stdout.trim().split('\n').pop();
    if (dir === undefined || dir === '') throw new Error('kafka-jars.sh printed no directory');
    return dir;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(
      `Cannot obtain the Kafka ${version} jars (scripts/kafka-jars.sh needs Maven, Java 17 and access to ` +
        `Maven Central): ${e.message}\n${e.stderr ?? ''}`,
    );
  }
}

/** Free TCP ports on 127.0.0.1 (found by binding port 0). */
export async function freePorts(count: number): Promise<number[]> {
  // Hold every socket open until all are bound so the same port cannot be handed out twice.
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      return server;
    }),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
