import { parseArgs } from 'node:util';

/** What one `npm run bench` measures; every size is in bytes. */
export interface BenchOptions {
  smoke: boolean;
  /** Payload bytes of the main data set (~recordSize records). */
  size: number;
  recordSize: number;
  partitions: number;
  /** Payload bytes of the small-record variant; 0 leaves it out. */
  smallSize: number;
  smallRecordSize: number;
  /** Codecs measured on the main data set (the small-record variant uses zstd only). */
  codecs: string[];
  /** Also back up 1 GiB and 4 GiB topics and compare peak RSS. */
  memory: boolean;
  memorySizes: number[];
  /** Extra backup and restore runs under `node --cpu-prof`, summarized in the report. */
  profile: boolean;
  /** Broker JVM max heap. */
  heapMb: number;
  /** Extra flags for every kbackup backup / restore run (e.g. "--concurrency 4"). */
  backupArgs: string[];
  restoreArgs: string[];
  outDir: string;
  write: boolean;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** "2GiB", "512MiB", "100k", "4096" → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new Error(`not a size: "${text}" (e.g. 2GiB, 512MiB, 1024)`);
  return Math.round(Number(m[1]) * unit);
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

export const USAGE = `usage: npm run bench -- [options]
  --smoke                 tiny data set (20 MiB, 2 partitions): proves the benchmark works, ~1-2 min
  --size SIZE             main data set payload bytes (default 2GiB)
  --record-size N         average record size of the main data set (default 1024)
  --partitions N          partitions of every topic (default 8)
  --small-size SIZE       payload bytes of the small-record variant; 0 = skip (default: size / 4)
  --small-record-size N   record size of that variant (default 100)
  --codecs LIST           backup codecs on the main data set (default none,lz4,zstd)
  --memory                also back up 1 GiB and 4 GiB topics and compare peak RSS
  --memory-sizes LIST     sizes for --memory (default 1GiB,4GiB)
  --profile               also profile one backup and one restore (node --cpu-prof)
  --heap-mb N             broker JVM heap (default 1024)
  --backup-args="FLAGS"   extra flags for kbackup backup (e.g. --backup-args="--concurrency 4")
  --restore-args="FLAGS"  extra flags for kbackup restore
  --out DIR               results directory (default bench/results)
  --no-write              print the report only`;

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      smoke: { type: 'boolean' },
      size: { type: 'string' },
      'record-size': { type: 'string' },
      partitions: { type: 'string' },
      'small-size': { type: 'string' },
      'small-record-size': { type: 'string' },
      codecs: { type: 'string' },
      memory: { type: 'boolean' },
      'memory-sizes': { type: 'string' },
      profile: { type: 'boolean' },
      'heap-mb': { type: 'string' },
      'backup-args': { type: 'string' },
      'restore-args': { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return 'help';
  const smoke = values.smoke === true;
  const size = parseSize(values.size ?? (smoke ? '20MiB' : '2GiB'));
  const recordSize = positiveInt('--record-size', values['record-size'] ?? '1024');
  const smallSize = parseSize(values['small-size'] ?? String(Math.round(size / 4)));
  const codecs = (values.codecs ?? 'none,lz4,zstd').split(',').filter((c) => c !== '');
  if (codecs.length === 0) throw new Error('--codecs needs at least one codec');
  const memorySizes = (values['memory-sizes'] ?? (smoke ? '8MiB,32MiB' : '1GiB,4GiB'))
    .split(',')
    .map(parseSize);
  const split = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter((a) => a !== '');
  return {
    smoke,
    size,
    recordSize,
    partitions: positiveInt('--partitions', values.partitions ?? (smoke ? '2' : '8')),
    smallSize,
    smallRecordSize: positiveInt('--small-record-size', values['small-record-size'] ?? '100'),
    codecs,
    memory: values.memory === true,
    memorySizes,
    profile: values.profile === true,
    heapMb: positiveInt('--heap-mb', values['heap-mb'] ?? '1024'),
    backupArgs: split(values['backup-args']),
    restoreArgs: split(values['restore-args']),
    outDir: values.out ?? 'bench/results',
    write: values['no-write'] !== true,
  };
}

/** The arguments of `npm run bench -- ARGS` (package.json forwards them with "$@"). */
export function benchArgv(): string[] {
  return process.argv.slice(2);
}
