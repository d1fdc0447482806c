// Micro-benchmark of the pure segment paths (no broker): encoding records into segments, and reading them
// back as verify and restore do. Uses the compiled dist/ (run `npm run build` first) and the benchmark's
// JSON-like payloads. Usage: npx tsx bench/segment-micro.ts [--mib 128] [--rounds 3] [--record-size 1024]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writePayloadFile } from './dataset.js';
import type { BackupRecord } from '../src/core/record.js';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '3' },
    'record-size': { type: 'string', default: '1024' },
    only: { type: 'string' },
  },
});
const MIB = Number(values.mib);
const ROUNDS = Number(values.rounds);
const RECORD_SIZE = Number(values['record-size']);
const only = values.only?.split(',');

// Through a variable, so that TypeScript does not look for declarations of the compiled files.
const dist = '../dist/core/segment/';
const segment = (await import(`${dist}index.js`)) as typeof import('../src/core/segment/index.js');
const reader = (await import(
  `${dist}segment-reader.js`
)) as typeof import('../src/core/segment/segment-reader.js');

const dir = mkdtempSync(join(tmpdir(), 'kbackup-micro-'));
try {
  const pool = writePayloadFile(join(dir, 'payloads'), RECORD_SIZE, 20_000);
  const payloads = readFileSync(pool.file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => Buffer.from(l));
  const count = Math.floor((MIB * 1024 * 1024) / pool.meanBytes);
  const records: BackupRecord[] = [];
  let payloadBytes = 0;
  for (let i = 0; i < count; i++) {
    const value = payloads[i % payloads.length] as Buffer;
    payloadBytes += value.length;
    records.push({
      offset: BigInt(i),
      timestamp: 1_735_689_600_000n + BigInt(i),
      timestampType: 0,
      key: null,
      value,
      headers: [],
    });
  }
  const mib = payloadBytes / 1024 / 1024;
  console.log(`${count} records, ${mib.toFixed(0)} MiB payload, ${ROUNDS} rounds, best of each`);

  const time = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
    if (only && !only.some((o) => name.includes(o))) return;
    let best = Infinity;
    let cpuBest = Infinity;
    for (let r = 0; r < ROUNDS; r++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      best = Math.min(best, ms);
      cpuBest = Math.min(cpuBest, (cpu.user + cpu.system) / 1000);
    }
    console.log(
      `${name.padEnd(34)} ${(mib / (best / 1000)).toFixed(0).padStart(6)} MiB/s  ${best.toFixed(0).padStart(6)} ms  cpu ${cpuBest.toFixed(0)} ms`,
    );
  };

  const files: Record<string, string> = {};
  for (const codec of ['none', 'zstd'] as const) {
    const bytes = await segment.encodeSegment(records, { codec });
    files[codec] = join(dir, `seg-${codec}.kseg`);
    writeFileSync(files[codec], bytes);
  }

  for (const codec of ['none', 'zstd'] as const) {
    await time(`encode (memory sink) ${codec}`, () => segment.encodeSegment(records, { codec }));
  }
  // The readers below run with a heap as small as the CLI's: the records are not needed any more.
  records.length = 0;
  for (const codec of ['none', 'zstd'] as const) {
    await time(`verifySegment ${codec}`, async () => {
      const result = await reader.verifySegment(files[codec] as string);
      if (!result.ok) throw result.error;
    });
    await time(`readSegmentBlocks ${codec}`, async () => {
      let n = 0;
      for await (const block of reader.readSegmentBlocks(files[codec] as string)) n += block.length;
      if (n !== count) throw new Error(`read ${n} records`);
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
