import type { BackupRecord } from '../record.js';
import { SegmentBuilder, type SegmentBuildOptions, type SegmentSink } from './builder.js';
import type { SegmentHeader } from './format.js';
import { scanSegment, type ByteSource } from './segment-scan.js';

/**
 * In-memory twins of SegmentWriter and readSegmentBlocks, built on the same SegmentBuilder and
 * scanSegment, so tests of the bytes exercise exactly the code that writes and reads files.
 */
export async function encodeSegment(
  records: Iterable<BackupRecord>,
  opts: SegmentBuildOptions,
): Promise<Buffer> {
  return buildSegmentInMemory(opts, async (builder) => {
    for (const record of records) {
      const wait = builder.append(record);
      if (wait !== undefined) await wait;
    }
  });
}

/** The segment `fill` appends to the builder, in memory. */
export async function buildSegmentInMemory(
  opts: SegmentBuildOptions,
  fill: (builder: SegmentBuilder) => Promise<void>,
): Promise<Buffer> {
  const chunks: { position: number; buffers: Buffer[] }[] = [];
  const sink: SegmentSink = {
    write: (buffers, position) => {
      // Copied: the builder reuses its buffers once a write resolves.
      chunks.push({ position, buffers: buffers.map((b) => Buffer.from(b)) });
      return Promise.resolve();
    },
  };
  const builder = new SegmentBuilder(sink, opts);
  await fill(builder);
  const { fileBytes } = await builder.finish();
  const out = Buffer.alloc(fileBytes);
  for (const { position, buffers } of chunks) {
    let at = position;
    for (const buf of buffers) {
      out.set(buf, at);
      at += buf.length;
    }
  }
  return out;
}

/** Decodes a whole segment held in memory; `name` is used as the path in SegmentCorruptError. */
export async function decodeSegment(
  buf: Buffer,
  name: string,
): Promise<{ header: SegmentHeader; records: BackupRecord[] }> {
  const source: ByteSource = {
    size: buf.length,
    read: (position, length) =>
      Promise.resolve(buf.subarray(position, Math.min(buf.length, position + length))),
  };
  const records: BackupRecord[] = [];
  const blocks = scanSegment(source, name);
  let step = await blocks.next();
  while (step.done !== true) {
    // push(...block) could exceed the argument limit on big blocks.
    for (const record of step.value) records.push(record);
    step = await blocks.next();
  }
  return { header: step.value, records };
}
