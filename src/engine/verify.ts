import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KbackupError, SegmentCorruptError } from '../core/errors.js';
import type { Manifest, ManifestPartition } from '../core/manifest/schema.js';
import { checkSegmentFile } from '../core/segment/segment-reader.js';
import { PROGRESS_FILE, type Repository } from '../storage/repository.js';

export type VerifyProblemKind =
  'missing' | 'extra' | 'size' | 'corrupt' | 'mismatch' | 'incomplete' | 'manifest';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  path: string;
  message: string;
  firstBadOffset?: string;
  lastBadOffset?: string;
}

export interface VerifyReport {
  backupId: string;
  ok: boolean;
  quick: boolean;
  segmentsChecked: number;
  recordsChecked: number;
  bytesRead: number;
  problems: VerifyProblem[];
}

/**
 * Proves a backup is whole: every segment the manifest lists exists with its size, and (unless quick) every
 * block passes its checksum and decodes, offsets increase within and across segments, and the counts and
 * ranges match the manifest. Files in the backup that the manifest does not list are reported as extra.
 */
export async function runVerify(
  repo: Repository,
  backupId: string,
  options: { quick: boolean },
): Promise<VerifyReport> {
  const report: VerifyReport = {
    backupId,
    ok: true,
    quick: options.quick,
    segmentsChecked: 0,
    recordsChecked: 0,
    bytesRead: 0,
    problems: [],
  };
  let manifest: Manifest;
  try {
    manifest = await repo.readManifest(backupId);
  } catch (error) {
    if (
      error instanceof KbackupError &&
      (error.code === 'BACKUP_INCOMPLETE' || error.code === 'MANIFEST_INVALID')
    ) {
      report.ok = false;
      report.problems.push({
        kind: error.code === 'BACKUP_INCOMPLETE' ? 'incomplete' : 'manifest',
        path: join(repo.backupDir(backupId), 'manifest.json'),
        message: error.message,
      });
      return report;
    }
    throw error;
  }
  for (const topic of manifest.topics) {
    for (const partition of topic.partitions) {
      await verifyPartition(repo, manifest, topic.name, partition, options.quick, report);
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}

async function verifyPartition(
  repo: Repository,
  manifest: Manifest,
  topic: string,
  partition: ManifestPartition,
  quick: boolean,
  report: VerifyReport,
): Promise<void> {
  const dir = repo.partitionDir(manifest.backupId, topic, partition.partition);
  const listed = new Set(partition.segments.map((s) => s.file));
  const onDisk = await readdir(dir).catch(() => [] as string[]);
  for (const file of onDisk) {
    if (!listed.has(file) && file !== PROGRESS_FILE) {
      report.problems.push({
        kind: 'extra',
        path: join(dir, file),
        message: 'file is not listed in the manifest',
      });
    }
  }
  let previousLast: bigint | undefined;
  let records = 0;
  for (const segment of partition.segments) {
    const path = join(dir, segment.file);
    const size = await stat(path).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) {
      report.problems.push({
        kind: 'missing',
        path,
        message: `segment is missing (offsets ${segment.firstOffset}..${segment.lastOffset})`,
        firstBadOffset: segment.firstOffset.toString(),
        lastBadOffset: segment.lastOffset.toString(),
      });
      continue;
    }
    if (size !== segment.fileBytes) {
      report.problems.push({
        kind: 'size',
        path,
        message: `segment is ${size} bytes, the manifest says ${segment.fileBytes} (truncated or replaced)`,
        firstBadOffset: segment.firstOffset.toString(),
        lastBadOffset: segment.lastOffset.toString(),
      });
      if (quick) continue;
    }
    if (previousLast !== undefined && segment.firstOffset <= previousLast) {
      report.problems.push({
        kind: 'mismatch',
        path,
        message: `segment starts at ${segment.firstOffset}, not after ${previousLast}`,
      });
    }
    previousLast = segment.lastOffset;
    report.segmentsChecked++;
    if (quick) {
      records += segment.recordCount;
      continue;
    }
    await verifySegmentAgainstManifest(path, segment, report, (n) => (records += n));
  }
  if (!quick && records !== partition.recordCount && report.problems.length === 0) {
    report.problems.push({
      kind: 'mismatch',
      path: dir,
      message: `partition holds ${records} records, the manifest says ${partition.recordCount}`,
    });
  }
}

async function verifySegmentAgainstManifest(
  path: string,
  segment: ManifestPartition['segments'][number],
  report: VerifyReport,
  countRecords: (n: number) => void,
): Promise<void> {
  let count: number;
  let first: bigint;
  let last: bigint;
  try {
    // Every record's framing, offset order and timestamps are checked, so the header's totals are the
    // records' own: its count, first and last offset.
    const header = await checkSegmentFile(path);
    count = header.recordCount;
    first = header.firstOffset;
    last = header.lastOffset;
  } catch (error) {
    if (error instanceof SegmentCorruptError) {
      report.problems.push({
        kind: 'corrupt',
        path,
        message: error.message,
        ...(error.firstBadOffset === undefined ? {} : { firstBadOffset: error.firstBadOffset.toString() }),
        ...(error.lastBadOffset === undefined ? {} : { lastBadOffset: error.lastBadOffset.toString() }),
      });
      return;
    }
    throw error;
  }
  report.recordsChecked += count;
  report.bytesRead += segment.fileBytes;
  countRecords(count);
  if (count !== segment.recordCount || first !== segment.firstOffset || last !== segment.lastOffset) {
    report.problems.push({
      kind: 'mismatch',
      path,
      message: `segment holds ${count} records ${first}..${last}; the manifest says ${segment.recordCount} records ${segment.firstOffset}..${segment.lastOffset}`,
    });
  }
}
