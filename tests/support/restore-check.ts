import { expect } from 'vitest';
import { restoreArgs, runCliJson } from './cli.js';
import { expectSameRecords } from './compare.js';
import { readAllRecords, type OracleRecord } from './kafka-reader.js';

/**
 * The end of most chaos stories: the backup verifies, restores into a new topic `target` of the same
 * cluster, and the copy holds the source's records field by field, at the same offsets. Returns the source's
 * records (per partition) for further checks.
 */
export async function expectVerifiesAndRestoresExactly(
  bootstrap: string,
  repo: string,
  backupId: string,
  topic: string,
  target: string,
): Promise<OracleRecord[][]> {
  const verified = await runCliJson<{ ok: boolean }>(['verify', '--repo', repo, '--backup', backupId]);
  expect(verified.ok, `verify of ${backupId}`).toBe(true);
  await runCliJson(restoreArgs({ repo, backupId, bootstrap }, topic, target));
  const [source, copy] = await Promise.all([
    readAllRecords(bootstrap, topic),
    readAllRecords(bootstrap, target),
  ]);
  expectSameRecords(copy, source, { compareOffsets: true });
  return source;
}
