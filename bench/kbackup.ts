import { CLI_ENTRY, launcherFlags } from '../tests/support/cli.js';
import { assertOk, directoryBytes, runMeasured, type Measured } from './proc.js';

export interface CliRun {
  durationMs: number;
  peakRssBytes: number;
  run: Measured;
}

export interface BackupRun extends CliRun {
  codec: string;
  backupId: string;
  records: number;
  payloadBytes: number;
  storedBytes: number;
  segments: number;
  /** Everything under the repository directory (segments, manifests, plan, progress). */
  repoBytes: number;
}

export interface RestoreRun extends CliRun {
  records: number;
  payloadBytes: number;
}

export interface VerifyRun extends CliRun {
  records: number;
  /** Segment file bytes read. */
  bytesRead: number;
}

export interface CliContext {
  bootstrap: string;
  brokerPid: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new Error(`kbackup --json: no number ${what}`);
  return value;
}

function obj(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new Error(`kbackup --json: no object ${what}`);
  return value as Record<string, unknown>;
}

async function cli(
  ctx: CliContext,
  args: string[],
  what: string,
): Promise<[Record<string, unknown>, CliRun]> {
  const run = await runMeasured(
    process.execPath,
    // As a user runs it (bin/kbackup's Node flags), plus the benchmark's own (--cpu-prof) before the entry.
    [...launcherFlags(args), ...(ctx.nodeFlags ?? []), CLI_ENTRY, '--json', ...args],
    {
      brokerPid: ctx.brokerPid,
    },
  );
  assertOk(run, what);
  let doc: Record<string, unknown>;
  try {
    doc = obj(JSON.parse(run.stdout), 'document');
  } catch (error) {
    throw new Error(
      `${what}: stdout is not one JSON document (${String(error)}):\n${run.stdout.slice(0, 2000)}`,
    );
  }
  return [
    doc,
    {
      durationMs: num(doc.durationMs, 'durationMs'),
      peakRssBytes: num(doc.peakRssBytes, 'peakRssBytes'),
      run,
    },
  ];
}

export async function kbackupBackup(
  ctx: CliContext,
  topic: string,
  repo: string,
  codec: string,
  extra: string[],
): Promise<BackupRun> {
  const args = ['backup', '--bootstrap', ctx.bootstrap, '--topics', topic, '--repo', repo, '--codec', codec];
  const [doc, base] = await cli(ctx, [...args, ...extra], `kbackup backup (${codec})`);
  const totals = obj(doc.totals, 'totals');
  if (typeof doc.backupId !== 'string') throw new Error('kbackup backup --json: no backupId');
  return {
    ...base,
    codec,
    backupId: doc.backupId,
    records: num(totals.records, 'totals.records'),
    payloadBytes: num(totals.payloadBytes, 'totals.payloadBytes'),
    storedBytes: num(totals.storedBytes, 'totals.storedBytes'),
    segments: num(totals.segments, 'totals.segments'),
    repoBytes: directoryBytes(repo),
  };
}

export async function kbackupRestore(
  ctx: CliContext,
  repo: string,
  backupId: string,
  rename: string,
  extra: string[],
): Promise<RestoreRun> {
  const args = ['restore', '--repo', repo, '--backup', backupId, '--bootstrap', ctx.bootstrap];
  const [doc, base] = await cli(ctx, [...args, '--rename', rename, ...extra], 'kbackup restore');
  const totals = obj(doc.totals, 'totals');
  return {
    ...base,
    records: num(totals.records, 'totals.records'),
    payloadBytes: num(totals.payloadBytes, 'totals.payloadBytes'),
  };
}

export async function kbackupVerify(ctx: CliContext, repo: string, backupId: string): Promise<VerifyRun> {
  const [doc, base] = await cli(ctx, ['verify', '--repo', repo, '--backup', backupId], 'kbackup verify');
  if (doc.ok !== true) throw new Error(`kbackup verify reported ok=${String(doc.ok)}`);
  const reports = Array.isArray(doc.reports) ? doc.reports.map((r) => obj(r, 'report')) : [];
  return {
    ...base,
    records: reports.reduce((s, r) => s + num(r.recordsChecked, 'recordsChecked'), 0),
    bytesRead: reports.reduce((s, r) => s + num(r.bytesRead, 'bytesRead'), 0),
  };
}
