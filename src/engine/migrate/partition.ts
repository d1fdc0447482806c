import { setTimeout as delay } from 'node:timers/promises';
import { KbackupError } from '../../core/errors.js';
import { ProduceBatchBuilder } from '../../core/migrate/produce-batch.js';
import { sameContent } from '../../core/migrate/records.js';
import type { MigrateStatePartition, ResumePoint } from '../../core/migrate/state.js';
import { OffsetMapBuilder } from '../../core/offset-map.js';
import type { IsolationLevel, KafkaPort } from '../../core/ports/kafka-port.js';
import type { BackupRecord } from '../../core/record.js';
import type { RunObserver } from '../observer.js';

/** What a running copy of one partition knows; shared with the run for progress, draining and results. */
export class LivePartition {
  readonly label: string;
  readonly map = new OffsetMapBuilder();
  /** Next source offset to copy. */
  position: bigint;
  /** Source end (last stable offset under read_committed, else high watermark) as last seen. */
  sourceEnd: bigint;
  /** Stop once `position` reaches this (one-shot mode); undefined: copy until told to stop. */
  cut: bigint | undefined;
  targetEnd: bigint;
  /** Records and payload bytes written by this run. */
  records = 0;
  payloadBytes = 0;
  lostToRetention = 0n;
  done = false;

  constructor(
    readonly entry: MigrateStatePartition,
    readonly resume: ResumePoint,
  ) {
    this.label = `${entry.sourceTopic}-${entry.partition}→${entry.targetTopic}`;
    // The builder appends to the runs the state file holds, so that every save includes the new ones.
    this.map.runs.push(...entry.runs);
    entry.runs = this.map.runs;
    this.position = resume.position;
    this.sourceEnd = resume.position;
    this.targetEnd = resume.targetCovered;
  }

  get lag(): bigint {
    const end = this.cut !== undefined && this.cut < this.sourceEnd ? this.cut : this.sourceEnd;
    return end > this.position ? end - this.position : 0n;
  }
}

/** At most `limit` fetch-and-produce steps at once across all partitions: this bounds memory. */
export class Gate {
  #free: number;
  #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

export interface CopyContext {
  source: KafkaPort;
  target: KafkaPort;
  isolation: IsolationLevel;
  /** Bytes per fetch and per produce request. */
  batchMaxBytes: number;
  gate: Gate;
  /** Aborted when the copy should stop after the step in flight (signal, drained, or another failure). */
  stop: AbortSignal;
  /** Called after every change of the state (records acknowledged, position moved). */
  changed: () => void;
  observer: RunObserver;
}

/** How long a caught-up partition waits before it asks the source again (outside the gate). */
const IDLE_SLEEP_MS = 400;

/**
 * Copies one partition in order into the same partition number of the target, from `live.position` until
 * the cut (one-shot) or until `stop`. Records that a killed run wrote but did not save are first matched
 * against the source by reading them back from the target, so that they are neither sent again nor left
 * out of the offset map.
 */
export async function copyPartition(ctx: CopyContext, live: LivePartition): Promise<void> {
  if (live.resume.uncovered > 0n) await ctx.gate.run(() => reconcile(ctx, live));
  let idleFetches = 0;
  while (!ctx.stop.aborted && (live.cut === undefined || live.position < live.cut)) {
    const progressed = await ctx.gate.run(() => (ctx.stop.aborted ? Promise.resolve(true) : step(ctx, live)));
    if (progressed) {
      idleFetches = 0;
      continue;
    }
    idleFetches++;
    if (live.cut === undefined) {
      await delay(IDLE_SLEEP_MS, undefined, { signal: ctx.stop }).catch(() => undefined);
    } else if (idleFetches >= 5) {
      // No progress below the cut: the partition may have been truncated under us. Re-check, never spin.
      const now = (await ctx.source.partitionOffsets(live.entry.sourceTopic, [live.entry.partition])).get(
        live.entry.partition,
      );
      const end = ctx.isolation === 'read_committed' ? now?.lastStableOffset : now?.highWatermark;
      if (end !== undefined && end <= live.position) {
        ctx.observer.warn(
          `${live.label}: the source ends at ${end}, below the cut ${live.cut} read at start; copied up to ${live.position}`,
        );
        live.cut = live.position;
        break;
      }
      if (idleFetches >= 50)
        throw new KbackupError('KAFKA_RETRIABLE', `${live.label}: no progress fetching at ${live.position}`);
    }
  }
  live.done = live.cut !== undefined && live.position >= live.cut;
}

function advance(ctx: CopyContext, live: LivePartition, next: bigint): void {
  live.position = next;
  live.entry.sourceNextOffset = next;
  ctx.changed();
}

/**
 * Produce requests kept for reuse: a step takes one after its fetch and holds it until its last produce,
 * and the gate bounds the steps in flight. The producer copies a request's records into its own batch
 * before sending, so after a successful step the request is free. A failed step drops its request: a
 * produce that gave up on a deadline may still be running and read it later.
 */
const spareRequests: ProduceBatchBuilder[] = [];
const MAX_SPARE_REQUESTS = 8;

function takeRequest(maxBytes: number): ProduceBatchBuilder {
  const spare = spareRequests.pop();
  return spare?.maxBytes === maxBytes ? spare : new ProduceBatchBuilder(maxBytes);
}

function giveBack(request: ProduceBatchBuilder): void {
  request.clear();
  if (spareRequests.length < MAX_SPARE_REQUESTS) spareRequests.push(request);
}

/** One fetch from the source and the produce requests of its records. True when the position moved. */
async function step(ctx: CopyContext, live: LivePartition): Promise<boolean> {
  const { sourceTopic, partition } = live.entry;
  const from = live.position;
  const result = await ctx.source.fetchBatches({
    topic: sourceTopic,
    partition,
    offset: from,
    isolation: ctx.isolation,
    maxBytes: ctx.batchMaxBytes,
    maxWaitMs: live.cut === undefined ? 100 : 500,
  });
  if (result.offsetOutOfRange) {
    if (result.logStartOffset > from) {
      ctx.observer.warn(
        `${live.label}: source offsets ${from}..${result.logStartOffset - 1n} were deleted by retention before they were copied`,
      );
      live.lostToRetention += result.logStartOffset - from;
      advance(ctx, live, result.logStartOffset);
      return true;
    }
    throw new KbackupError(
      'KAFKA',
      `${live.label}: source offset ${from} is beyond the partition end ${result.highWatermark} (log truncated?)`,
      { hint: 'The source partition was truncated (unclean leader election or deletion).' },
    );
  }
  live.sourceEnd = ctx.isolation === 'read_committed' ? result.lastStableOffset : result.highWatermark;
  const cut = live.cut;
  const recordsBefore = live.records;
  const bytesBefore = live.payloadBytes;
  const request = takeRequest(ctx.batchMaxBytes);
  let last: bigint | undefined;
  // Batch by batch, each already in the segment encoding; the records from `from` and below the cut go
  // into requests of up to batchMaxBytes, each sent once full.
  for (const run of result.batches) {
    let i = run.firstAbove(from - 1n);
    const to = cut === undefined ? run.count : run.firstAbove(cut - 1n);
    if (i >= to) continue;
    last = run.offsetAt(to - 1);
    while (i < to) {
      i = request.add(run, i, to);
      if (i < to) await produceRequest(ctx, live, request);
    }
  }
  if (request.count > 0) await produceRequest(ctx, live, request);
  giveBack(request);
  let next = result.nextOffset;
  if (cut !== undefined && next > cut) next = cut;
  if (last !== undefined && last + 1n > next) next = last + 1n;
  if (next <= from) return false;
  advance(ctx, live, next);
  ctx.observer.progress?.({
    label: live.label,
    records: live.records - recordsBefore,
    bytes: live.payloadBytes - bytesBefore,
    advanced: Number(next - from),
    position: next,
    end: live.sourceEnd,
  });
  return true;
}

/** Sends the gathered records, checks where they landed, maps them and empties the request. */
async function produceRequest(
  ctx: CopyContext,
  live: LivePartition,
  request: ProduceBatchBuilder,
): Promise<void> {
  const ack = await ctx.target.produce(live.entry.targetTopic, live.entry.partition, request.records());
  if (ack.baseOffset === undefined) {
    throw new KbackupError(
      'KAFKA',
      `${live.label}: the broker did not report the offset of a produced batch`,
    );
  }
  if (ack.baseOffset !== live.targetEnd) {
    throw new KbackupError(
      'KAFKA',
      `${live.label}: a batch landed at target offset ${ack.baseOffset}, expected ${live.targetEnd}: something else writes into ${live.entry.targetTopic}-${live.entry.partition}`,
      { hint: 'A migration must be the only writer into its target partitions. Stop the other producer.' },
    );
  }
  request.mapTo(live.map, ack.baseOffset);
  live.targetEnd += BigInt(request.count);
  live.records += request.count;
  live.payloadBytes += request.payloadBytes;
  request.clear();
  ctx.changed();
}

/**
 * Maps the records a killed run wrote after its last save: they are the next records of the source from
 * `position`, in order. Each is read back from the target and compared with its source record, so that a
 * source that changed meanwhile (compaction, retention) is detected instead of mapped wrongly.
 */
async function reconcile(ctx: CopyContext, live: LivePartition): Promise<void> {
  const { targetTopic, partition } = live.entry;
  const source = new SourceCursor(ctx, live.entry.sourceTopic, partition, live.position);
  const end = live.resume.targetCovered + live.resume.uncovered;
  let offset = live.resume.targetCovered;
  let idle = 0;
  while (offset < end) {
    const result = await ctx.target.fetch({
      topic: targetTopic,
      partition,
      offset,
      isolation: 'read_uncommitted',
      maxBytes: ctx.batchMaxBytes,
    });
    if (result.offsetOutOfRange) {
      throw new KbackupError('KAFKA', `${live.label}: target offset ${offset} is no longer readable`, {
        hint: 'Records this migration wrote were deleted from the target (retention?). Migrate into a new topic.',
      });
    }
    const copies = result.records.filter((r) => r.offset >= offset && r.offset < end);
    for (const copy of copies) {
      const original = await source.next();
      if (!original || !sameContent(original, copy)) {
        throw new KbackupError(
          'KAFKA',
          `${live.label}: target record ${copy.offset} does not match the next source record (${original ? `offset ${original.offset}` : 'none'})`,
          {
            hint: 'The source changed under the interrupted migration (compaction or retention), or something else wrote into the target. Migrate into a new topic.',
          },
        );
      }
      live.map.add(original.offset, copy.offset);
      live.position = original.offset + 1n;
    }
    const next = copies.length > 0 ? (copies.at(-1) as BackupRecord).offset + 1n : result.nextOffset;
    if (next <= offset) {
      if (++idle >= 20)
        throw new KbackupError('KAFKA_RETRIABLE', `${live.label}: cannot read target at ${offset}`);
      continue;
    }
    idle = 0;
    offset = next;
  }
  live.entry.sourceNextOffset = live.position;
  live.targetEnd = end;
  ctx.changed();
  ctx.observer.warn(
    `${live.label}: ${live.resume.uncovered} records written by an interrupted run were found in the target and are not sent again`,
  );
}

/** Reads a source partition record by record from an offset (for reconcile). */
class SourceCursor {
  #records: BackupRecord[] = [];
  #index = 0;
  #offset: bigint;

  constructor(
    private readonly ctx: CopyContext,
    private readonly topic: string,
    private readonly partition: number,
    offset: bigint,
  ) {
    this.#offset = offset;
  }

  async next(): Promise<BackupRecord | undefined> {
    let empty = 0;
    while (this.#index >= this.#records.length) {
      const result = await this.ctx.source.fetch({
        topic: this.topic,
        partition: this.partition,
        offset: this.#offset,
        isolation: this.ctx.isolation,
        maxBytes: this.ctx.batchMaxBytes,
      });
      if (result.offsetOutOfRange) return undefined;
      this.#records = result.records.filter((r) => r.offset >= this.#offset);
      this.#index = 0;
      if (result.nextOffset > this.#offset) this.#offset = result.nextOffset;
      else if (this.#records.length === 0 && ++empty >= 5) return undefined;
    }
    return this.#records[this.#index++];
  }
}
