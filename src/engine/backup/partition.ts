import { KbackupError, tagTopic } from '../../core/errors.js';
import { GapTracker } from '../../core/gaps.js';
import type { BackupPlan, PartitionProgress, PlannedPartition } from '../../core/manifest/plan.js';
import type { GapReason } from '../../core/manifest/schema.js';
import type { FetchedBatches, KafkaPort, SkippedRange } from '../../core/ports/kafka-port.js';
import type { Repository } from '../../storage/repository.js';
import type { RunObserver } from '../observer.js';
import { PartitionSegmentSink } from '../segment-sink.js';

export interface PartitionRunOptions {
  fetchMaxBytes: number;
  signal?: AbortSignal;
}

interface ReadAhead {
  offset: bigint;
  fetched: Promise<FetchedBatches>;
}

function startReadAhead(offset: bigint, fetchFrom: (offset: bigint) => Promise<FetchedBatches>): ReadAhead {
  const fetched = fetchFrom(offset);
  // Awaited only if used: its failure must not surface as an unhandled rejection when it is dropped.
  fetched.catch(() => undefined);
  return { offset, fetched };
}

export function emptyProgress(start: bigint): PartitionProgress {
  return {
    nextOffset: start,
    done: false,
    recordCount: 0,
    payloadBytes: 0,
    firstOffset: null,
    lastOffset: null,
    minTimestamp: null,
    maxTimestamp: null,
    gaps: [],
    segments: [],
  };
}

/**
 * Reads one partition from `progress.nextOffset` up to the cut and streams it into segments. After every
 * segment becomes durable, progress.json is rewritten with the totals as they were when that segment was
 * sealed, so that a crash loses at most the segments in flight and a resume continues from the last
 * durable one. Gaps are recorded in offset order, interleaved with the records, so that the saved gaps
 * always end below the saved position.
 */
export async function backupPartition(
  kafka: KafkaPort,
  repo: Repository,
  plan: BackupPlan,
  planned: PlannedPartition,
  start: PartitionProgress,
  options: PartitionRunOptions,
  observer: RunObserver,
): Promise<PartitionProgress> {
  const { topic, partition, cutOffset } = planned;
  const label = `${topic}-${partition}`;
  const progress: PartitionProgress = { ...start, gaps: [...start.gaps], segments: [...start.segments] };
  const gaps = new GapTracker();
  gaps.gaps.push(...progress.gaps);
  progress.gaps = gaps.gaps;
  const save = async (): Promise<void> => {
    await repo.writeProgress(plan.backupId, topic, partition, progress);
  };
  const dir = repo.partitionDir(plan.backupId, topic, partition);
  await repo.ensureDir(dir);
  const sink = new PartitionSegmentSink(
    dir,
    {
      codec: plan.options.codec,
      level: plan.options.compressionLevel ?? undefined,
      segmentMaxBytes: plan.options.segmentMaxBytes,
      segmentMaxRecords: plan.options.segmentMaxRecords,
    },
    () => {
      // The totals now count exactly the sealed segment's records (see sink.segmentTakes below); it
      // becomes durable while later records are counted, so its checkpoint saves them as they are now
      // (gap objects included: the tracker extends its last gap in place).
      const sealed: PartitionProgress = { ...progress, gaps: progress.gaps.map((gap) => ({ ...gap })) };
      return async (segment) => {
        progress.segments.push(segment);
        progress.nextOffset = segment.lastOffset + 1n;
        const checkpoint = { ...sealed, segments: [...progress.segments], nextOffset: progress.nextOffset };
        await repo.writeProgress(plan.backupId, topic, partition, checkpoint);
      };
    },
  );
  const reasonFor = (s: SkippedRange): GapReason =>
    s.reason === 'missing' ? (planned.compacted ? 'compacted' : 'missing') : s.reason;
  const addGap = (from: bigint, to: bigint, reason: GapReason): void => {
    gaps.add(from, to < cutOffset ? to : cutOffset - 1n, reason);
  };

  const fetchFrom = (offset: bigint): Promise<FetchedBatches> =>
    kafka.fetchBatches({
      topic,
      partition,
      offset,
      isolation: plan.options.isolation,
      maxBytes: options.fetchMaxBytes,
    });
  let offset = progress.nextOffset;
  let idleFetches = 0;
  // The next fetch, sent while the current one is decoded and written: the broker's read and the round
  // trip overlap kbackup's work instead of adding to it. Used only if it starts where this one ended.
  let readAhead: ReadAhead | undefined;
  try {
    while (offset < cutOffset) {
      if (options.signal?.aborted) throw new KbackupError('INTERRUPTED', 'backup interrupted');
      const result = await (readAhead?.offset === offset ? readAhead.fetched : fetchFrom(offset));
      readAhead = undefined;
      if (!result.offsetOutOfRange && result.endOffset > offset && result.endOffset < cutOffset) {
        readAhead = startReadAhead(result.endOffset, fetchFrom);
      }
      if (result.offsetOutOfRange) {
        // Retention deleted records under the backup: record what was lost and continue from the new start.
        if (result.logStartOffset > offset) {
          addGap(offset, result.logStartOffset - 1n, 'retention');
          observer.warn(
            `${label}: offsets ${offset}..${result.logStartOffset - 1n} were deleted by retention during the backup`,
          );
          offset = result.logStartOffset;
          continue;
        }
        throw new KbackupError(
          'KAFKA',
          `${label}: offset ${offset} is beyond the partition end ${result.highWatermark} (log truncated?)`,
          {
            hint: 'The partition was truncated (unclean leader election or deletion). Run the backup again.',
          },
        );
      }
      let skipIndex = 0;
      const flushSkipsBelow = (limit: bigint): void => {
        for (; skipIndex < result.skipped.length; skipIndex++) {
          const s = result.skipped[skipIndex] as SkippedRange;
          if (s.from >= limit || s.from >= cutOffset) break;
          addGap(s.from, s.to < limit ? s.to : limit - 1n, reasonFor(s));
        }
      };
      let reachedCut = false;
      let stepRecords = 0;
      let stepBytes = 0;
      // Batch by batch, each already in the segment encoding: the sink copies runs of records as they are.
      for (const run of result.batches) {
        if (run.count === 0) continue;
        let to = run.count;
        if (run.offsetAt(to - 1) >= cutOffset) {
          to = run.firstAbove(cutOffset - 1n);
          reachedCut = true;
        }
        let from = 0;
        while (from < to) {
          // Gaps stay interleaved with the records: one that lies inside this run splits it.
          let until = to;
          if (skipIndex < result.skipped.length) {
            flushSkipsBelow(run.offsetAt(from));
            const next = result.skipped[skipIndex];
            if (next !== undefined) until = Math.max(from + 1, run.firstAbove(next.from, from));
            if (until > to) until = to;
          }
          // Up to the end of the open segment: the progress saved when it becomes durable counts its records.
          until = sink.segmentTakes(run, from, until);
          const bytes = run.payloadBytes(from, until);
          const [minTimestamp, maxTimestamp] = run.timestampRange(from, until);
          stepRecords += until - from;
          stepBytes += bytes;
          progress.recordCount += until - from;
          progress.payloadBytes += bytes;
          progress.firstOffset ??= run.offsetAt(from);
          progress.lastOffset = run.offsetAt(until - 1);
          if (progress.minTimestamp === null || minTimestamp < progress.minTimestamp)
            progress.minTimestamp = minTimestamp;
          if (progress.maxTimestamp === null || maxTimestamp > progress.maxTimestamp)
            progress.maxTimestamp = maxTimestamp;
          const appending = sink.appendEncoded(run, from, until);
          if (appending) await appending;
          from = until;
        }
        if (reachedCut) break;
      }
      flushSkipsBelow(cutOffset);
      const reached = reachedCut || result.nextOffset >= cutOffset ? cutOffset : result.nextOffset;
      if (reached > offset) {
        observer.progress?.({
          label,
          records: stepRecords,
          bytes: stepBytes,
          advanced: Number(reached - offset),
          position: reached,
          end: cutOffset,
        });
      }
      if (reached === cutOffset) break;
      if (result.nextOffset <= offset) {
        // No progress below the cut: the partition may have been truncated under us. Re-check, never spin.
        idleFetches++;
        if (idleFetches >= 5) {
          const now = (await kafka.partitionOffsets(topic, [partition])).get(partition);
          const end =
            plan.options.isolation === 'read_committed' ? now?.lastStableOffset : now?.highWatermark;
          if (end !== undefined && end <= offset) {
            observer.warn(
              `${label}: the partition ends at ${end}, below the cut ${cutOffset} read at start; backed up to ${offset}`,
            );
            break;
          }
          if (idleFetches >= 50)
            throw new KbackupError('KAFKA_RETRIABLE', `${label}: no progress fetching at offset ${offset}`);
        }
        continue;
      }
      idleFetches = 0;
      offset = result.nextOffset;
    }
    await sink.close();
  } catch (error) {
    tagTopic(error, topic);
    if (error instanceof KbackupError && error.code === 'INTERRUPTED') {
      // A graceful stop keeps what was read: the open segment is finished and recorded before exiting.
      await sink.close();
    } else {
      // On failure the segment being written is dropped; finished ones stay, listed in progress.json.
      await sink.abort();
    }
    throw error;
  }
  progress.done = true;
  progress.nextOffset = cutOffset;
  await save();
  return progress;
}
