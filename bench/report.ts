import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileMarkdown, type ProfileSummary } from './cpuprofile.js';
import type { ConsumerPerfResult, ProducerPerfResult } from './kafka-tools.js';
import type { BackupRun, RestoreRun, VerifyRun } from './kbackup.js';
import type { BenchOptions } from './options.js';
import type { Measured } from './proc.js';

export interface DatasetResult {
  name: string;
  topic: string;
  recordSize: number;
  meanRecordBytes: number;
  partitions: number;
  records: number;
  payloadBytes: number;
  /**
   * ProducerPerformance runs: the data load, then the same records into a fresh topic just before the
   * restore (same conditions as the restore). The restore baseline is the faster.
   */
  produce: ProducerPerfResult[];
  /** ConsumerPerformance before and after the kbackup backups (the backup baseline is the faster). */
  consume: ConsumerPerfResult[];
  backups: BackupRun[];
  verifies: (VerifyRun & { codec: string })[];
  restore: RestoreRun | undefined;
}

export interface MemoryResult {
  topicBytes: number;
  records: number;
  backup: BackupRun;
}

export interface BenchResults {
  date: string;
  smoke: boolean;
  machine: Record<string, string | number>;
  options: BenchOptions;
  kafkaVersion: string;
  producerProps: string[];
  datasets: DatasetResult[];
  memory: MemoryResult[];
  profiles: { title: string; summary: ProfileSummary }[];
  totalSeconds: number;
  /** 1-minute load average at start and end: other work on the machine skews every figure. */
  loadAverage: { start: number; end: number };
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MiB).toFixed(bytes < 10 * MiB ? 2 : 0);
const rate = (bytes: number, ms: number) => (ms > 0 ? bytes / MiB / (ms / 1000) : 0);
const fixed = (n: number, digits = 1) => n.toFixed(digits);
/** What each ProducerPerformance run of a data set was, in order (scenario.ts). */
const PRODUCE_RUNS = ['data load', 'before restore', 'after restore'];
const perSec = (n: number, ms: number) =>
  ms > 0 ? Math.round(n / (ms / 1000)).toLocaleString('en-US') : '-';

/**
 * CPU columns: client seconds (of which kernel), broker seconds, the client's share, and how many of the
 * cores were busy.
 */
function cpuCells(run: Measured): string[] {
  const total = run.clientCpuS + run.brokerCpuS;
  return [
    fixed(run.clientCpuS),
    fixed(run.clientSysS),
    fixed(run.brokerCpuS),
    total > 0 ? `${Math.round((100 * run.clientCpuS) / total)}%` : '-',
    fixed(total / (run.wallMs / 1000), 2),
  ];
}
const CPU_HEAD = ['client CPU s', 'of which kernel', 'broker CPU s', 'client share', 'cores busy'];

function rss(run: { peakRssBytes: number; run: Measured }): string {
  const time = run.run.timeMaxRssBytes;
  return `${mib(run.peakRssBytes)}${time === undefined ? '' : ` (${mib(time)})`}`;
}

interface Table {
  title: string;
  head: string[];
  rows: string[][];
}

function bestConsume(d: DatasetResult): ConsumerPerfResult | undefined {
  return [...d.consume].sort((a, b) => b.mibPerSec - a.mibPerSec)[0];
}

export function tables(r: BenchResults): Table[] {
  const backup: Table = {
    title: 'Backup (read the topic) vs ConsumerPerformance',
    head: ['data set', 'run', 'MiB/s', 'records/s', 'ratio', 'peak RSS MiB', ...CPU_HEAD],
    rows: [],
  };
  const restore: Table = {
    title: 'Restore (acks=all, idempotent) vs ProducerPerformance',
    head: ['data set', 'run', 'MiB/s', 'records/s', 'ratio', 'peak RSS MiB', ...CPU_HEAD],
    rows: [],
  };
  const verify: Table = {
    title: 'Verify (re-read, checksum, decode every record)',
    head: ['data set', 'codec', 'payload MiB/s', 'file MiB/s', 'records/s', 'peak RSS MiB', 'CPU s'],
    rows: [],
  };
  const repo: Table = {
    title: 'Repository size',
    head: ['data set', 'codec', 'payload MiB', 'stored MiB', 'repo dir MiB', 'ratio', 'segments'],
    rows: [],
  };
  for (const d of r.datasets) {
    const base = bestConsume(d);
    d.consume.forEach((c, i) => {
      const ms = (c.records / c.recordsPerSec) * 1000;
      backup.rows.push([
        d.name,
        `ConsumerPerformance (${i === 0 ? 'before' : 'after'})`,
        fixed(c.mibPerSec),
        perSec(c.records, ms),
        '-',
        '-',
        ...cpuCells(c.run),
      ]);
    });
    for (const b of d.backups) {
      const mibs = rate(b.payloadBytes, b.durationMs);
      const ratio = base ? fixed(mibs / base.mibPerSec, 2) : '-';
      backup.rows.push([
        d.name,
        `kbackup ${b.codec}`,
        fixed(mibs),
        perSec(b.records, b.durationMs),
        ratio,
        rss(b),
        ...cpuCells(b.run),
      ]);
      repo.rows.push([
        d.name,
        b.codec,
        mib(b.payloadBytes),
        mib(b.storedBytes),
        mib(b.repoBytes),
        fixed(b.payloadBytes / b.storedBytes, 2),
        String(b.segments),
      ]);
    }
    const bestProduce = [...d.produce].sort((a, b) => b.mibPerSec - a.mibPerSec)[0];
    d.produce.forEach((p, i) => {
      restore.rows.push([
        d.name,
        `ProducerPerformance (${PRODUCE_RUNS[i] ?? `run ${i + 1}`})`,
        fixed(p.mibPerSec),
        perSec(p.records, (p.records / p.recordsPerSec) * 1000),
        '-',
        '-',
        ...cpuCells(p.run),
      ]);
    });
    if (d.restore && bestProduce) {
      const mibs = rate(d.restore.payloadBytes, d.restore.durationMs);
      restore.rows.push([
        d.name,
        'kbackup restore',
        fixed(mibs),
        perSec(d.restore.records, d.restore.durationMs),
        fixed(mibs / bestProduce.mibPerSec, 2),
        rss(d.restore),
        ...cpuCells(d.restore.run),
      ]);
    }
    for (const v of d.verifies) {
      verify.rows.push([
        d.name,
        v.codec,
        fixed(rate(d.payloadBytes, v.durationMs)),
        fixed(rate(v.bytesRead, v.durationMs)),
        perSec(v.records, v.durationMs),
        rss(v),
        fixed(v.run.clientCpuS),
      ]);
    }
  }
  const out = [backup, restore, verify, repo];
  if (r.memory.length > 0) {
    out.push({
      title: 'Memory flatness (backup, zstd)',
      head: ['topic MiB', 'records', 'MiB/s', 'peak RSS MiB', '/usr/bin/time MiB', 'client CPU s'],
      rows: r.memory.map((m) => [
        mib(m.topicBytes),
        m.records.toLocaleString('en-US'),
        fixed(rate(m.backup.payloadBytes, m.backup.durationMs)),
        mib(m.backup.peakRssBytes),
        m.backup.run.timeMaxRssBytes === undefined ? '-' : mib(m.backup.run.timeMaxRssBytes),
        fixed(m.backup.run.clientCpuS),
      ]),
    });
  }
  return out;
}

function textTable(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [t.title, line(t.head), ...t.rows.map(line)].join('\n');
}

function markdownTable(t: Table): string {
  const align = t.head.map((_, i) => (i < 2 ? '---' : '---:'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [`### ${t.title}`, '', line(t.head), line(align), ...t.rows.map(line), ''].join('\n');
}

export function textReport(r: BenchResults): string {
  const profiles = r.profiles.map((p) => profileMarkdown(`CPU profile: ${p.title}`, p.summary));
  return [...tables(r).map(textTable), ...profiles].join('\n\n');
}

const NOTES = [
  'Notes: MiB/s counts record payload (key + value + headers) per second, the unit Kafka\'s tools print as "MB".',
  'ratio = kbackup / the fastest run of the Kafka tool (above 1: kbackup is faster). Peak RSS:',
  "kbackup's own peakRssBytes, with /usr/bin/time %M in parentheses. CPU: client = the measured process",
  '(kbackup or the Java tool), broker = the broker JVM over the same interval; cores busy = (client + broker)',
  "CPU seconds / wall seconds; both share the machine's cores.",
].join('\n');

export function markdownReport(r: BenchResults): string {
  const m = r.machine;
  const parts = [
    `# kbackup benchmark ${r.date}${r.smoke ? ' (smoke)' : ''}`,
    '',
    `Machine: ${String(m.cpus)} × ${String(m.cpuModel)}, ${String(m.memGiB)} GiB RAM, Node ${String(m.node)}, ${String(m.java)}, Kafka ${r.kafkaVersion} (single broker, heap ${r.options.heapMb} MiB), kbackup ${String(m.commit)}. Total run ${Math.round(r.totalSeconds)} s; 1-minute load average ${r.loadAverage.start.toFixed(1)} at start, ${r.loadAverage.end.toFixed(1)} at end.`,
    '',
    `Data sets: ${r.datasets.map((d) => `${d.name}: ${d.records.toLocaleString('en-US')} records of ~${Math.round(d.meanRecordBytes)} B (${mib(d.payloadBytes)} MiB) in ${d.partitions} partitions`).join('; ')}. ProducerPerformance props: \`${r.producerProps.join(' ')}\`.`,
    '',
    NOTES,
    '',
    ...tables(r).map(markdownTable),
  ];
  if (r.profiles.length > 0) {
    parts.push('### CPU profiles', '', ...r.profiles.map((p) => profileMarkdown(p.title, p.summary)));
  }
  return parts.join('\n');
}

/** Drops the captured output of child processes from the JSON (it is only for error messages). */
function replacer(key: string, value: unknown): unknown {
  return key === 'stdout' || key === 'stderr' ? undefined : value;
}

/** Writes <out>/<date>.json and .md (smoke-<date>.* for --smoke); returns the paths. */
export function writeResults(r: BenchResults, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${r.smoke ? 'smoke-' : ''}${r.date}`);
  writeFileSync(`${base}.json`, JSON.stringify(r, replacer, 2) + '\n');
  writeFileSync(`${base}.md`, markdownReport(r));
  return [`${base}.json`, `${base}.md`];
}
