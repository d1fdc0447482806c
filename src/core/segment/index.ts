export { SegmentWriter, type SegmentWriterOptions } from './segment-writer.js';
export {
  readSegmentBlocks,
  readSegmentHeader,
  segmentInfo,
  verifySegment,
  type ReadSegmentOptions,
  type VerifyResult,
} from './segment-reader.js';
export { decodeSegment, encodeSegment } from './memory.js';
export { decodeRecords, encodeRecords, encodedRecordSize } from './record-codec.js';
export type { SegmentBuildOptions } from './builder.js';
export {
  DEFAULT_BLOCK_BYTES,
  FORMAT_VERSION,
  SegmentFormatError,
  type SegmentHeader,
  type SegmentInfo,
} from './format.js';
