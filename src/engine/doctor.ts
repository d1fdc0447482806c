import { statfs } from 'node:fs/promises';
import { KbackupError, type ErrorCode } from '../core/errors.js';
import type { KafkaPort } from '../core/ports/kafka-port.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** On a failed check: the error's code (e.g. CONNECTION, or AUTHENTICATION for refused credentials). */
  errorCode?: ErrorCode;
}

/** APIs kbackup uses, with the lowest version it works with (the client negotiates the highest common one). */
const REQUIRED_APIS: [name: string, minimum: number][] = [
  ['Fetch', 12],
  ['ListOffsets', 6],
  ['Metadata', 12],
  ['Produce', 8],
  ['DescribeConfigs', 4],
  ['CreateTopics', 7],
  ['OffsetCommit', 8],
  ['OffsetFetch', 8],
  ['DescribeGroups', 5],
  ['ListGroups', 4],
  ['InitProducerId', 4],
  ['DescribeLogDirs', 4],
];

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Checks, without changing anything on the cluster, what backup and restore need: connectivity and auth,
 * the brokers and the protocol versions they offer, the permissions kbackup uses (describe topics and
 * configs, read, list and describe groups), and the free space of the repository.
 */
export async function runDoctor(kafka: KafkaPort, repo: string | undefined): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const check = async (
    name: string,
    fn: () => Promise<string | { status: CheckStatus; detail: string }>,
  ): Promise<boolean> => {
    try {
      const result = await fn();
      checks.push(typeof result === 'string' ? { name, status: 'ok', detail: result } : { name, ...result });
      return true;
    } catch (error) {
      const hint = error instanceof KbackupError && error.hint ? ` (${error.hint})` : '';
      checks.push({
        name,
        status: 'fail',
        detail: `${message(error)}${hint}`,
        ...(error instanceof KbackupError ? { errorCode: error.code } : {}),
      });
      return false;
    }
  };

  const connected = await check('connectivity and authentication', async () => {
    const cluster = await kafka.describeCluster();
    return `cluster ${cluster.clusterId}: ${cluster.brokers.length} broker(s) ${cluster.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(', ')}, controller ${cluster.controllerId}`;
  });
  if (connected) {
    await check('protocol versions', async () => {
      const apis = new Map((await kafka.apiVersions()).map((a) => [a.name, a]));
      const missing = REQUIRED_APIS.filter(([name, min]) => (apis.get(name)?.maxVersion ?? -1) < min);
      const shown = REQUIRED_APIS.map(([name]) => `${name} v${apis.get(name)?.maxVersion ?? '-'}`).join(', ');
      if (missing.length > 0) {
        return {
          status: 'fail',
          detail: `the broker lacks ${missing.map(([n, v]) => `${n} v${v}+`).join(', ')} (Kafka 3.5 or newer is needed); offers ${shown}`,
        };
      }
      return `all required APIs available: ${shown}`;
    });
    let sample: string | undefined;
    await check('permission: list and describe topics', async () => {
      const topics = await kafka.listTopics();
      sample = topics[0];
      if (sample === undefined)
        return { status: 'warn', detail: 'no topics are visible: the principal may lack DESCRIBE on topics' };
      const [described] = await kafka.describeTopics([sample]);
      return `${topics.length} topic(s) visible; configs of ${sample} readable (${Object.keys(described?.configs ?? {}).length} non-default)`;
    });
    await check('permission: read (fetch)', async () => {
      if (sample === undefined) return { status: 'skipped', detail: 'no topic to read from' };
      const offsets = (await kafka.partitionOffsets(sample, [0])).get(0);
      await kafka.fetch({
        topic: sample,
        partition: 0,
        offset: offsets?.highWatermark ?? 0n,
        isolation: 'read_committed',
        maxBytes: 1,
        maxWaitMs: 10,
      });
      return `fetched from ${sample}-0 without joining a group`;
    });
    await check('permission: consumer groups (list, describe, read offsets)', async () => {
      const groups = await kafka.listGroups();
      const first = groups[0];
      if (first) {
        await kafka.describeGroups([first.groupId]);
        await kafka.fetchGroupOffsets(first.groupId);
      }
      return `${groups.length} group(s) visible`;
    });
    checks.push({
      name: 'permission: write, create topics, alter group offsets',
      status: 'skipped',
      detail:
        'not checked: testing them would change the cluster; restore reports a clear authorization error if they are missing',
    });
  }
  if (repo !== undefined) {
    await check('repository free space', async () => {
      const fs = await statfs(repo);
      const free = fs.bavail * fs.bsize;
      const gib = (free / 1024 ** 3).toFixed(1);
      return free < 1024 ** 3
        ? { status: 'warn', detail: `${gib} GiB free in ${repo}` }
        : `${gib} GiB free in ${repo}`;
    });
  }
  return checks;
}
