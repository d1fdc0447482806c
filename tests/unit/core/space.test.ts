import { describe, expect, it } from 'vitest';
import { estimateBackupBytes } from '../../../src/core/space.js';

describe('estimateBackupBytes', () => {
  it('scales each partition size to the share of offsets the backup reads', () => {
    expect(
      estimateBackupBytes([
        { size: 1000n, logStartOffset: 0n, highWatermark: 100n, startOffset: 0n, cutOffset: 100n },
        { size: 1000n, logStartOffset: 0n, highWatermark: 100n, startOffset: 75n, cutOffset: 100n },
        { size: 500n, logStartOffset: 10n, highWatermark: 10n, startOffset: 10n, cutOffset: 10n },
      ]),
    ).toBe(1250n);
  });

  it('never counts more than the whole partition', () => {
    expect(
      estimateBackupBytes([
        { size: 300n, logStartOffset: 5n, highWatermark: 10n, startOffset: 0n, cutOffset: 10n },
      ]),
    ).toBe(300n);
  });
});
