import type { Command } from 'commander';
import { ExitCode } from '../../core/exit-codes.js';
import { runVerify } from '../../engine/verify.js';
import { Repository } from '../../storage/repository.js';
import type { CommandContext } from '../context.js';
import { formatBytes, formatDuration, table } from '../render.js';
import { tuneHeapForVerify } from '../runtime-tuning.js';
import { resolveBackupId } from './resolve.js';

type Run = (fn: (ctx: CommandContext) => Promise<number>) => Promise<void>;

/** verify, list and describe: read-only commands over a repository. */
export function registerInspect(program: Command, run: Run): void {
  program
    .command('verify')
    .description('re-read every segment, check checksums, decode every record and match the manifest')
    .requiredOption('--repo <dir>', 'repository directory')
    .requiredOption('--backup <id|latest|all>', 'backup to verify')
    .option('--quick', 'check only that files exist with the right sizes')
    .action(async (flags: { repo: string; backup: string; quick?: boolean }) => {
      await run(async (ctx) => {
        const started = Date.now();
        tuneHeapForVerify();
        const repo = await Repository.open(flags.repo);
        const ids =
          flags.backup === 'all'
            ? (await repo.listBackups()).map((b) => b.id)
            : [await resolveBackupId(repo, flags.backup)];
        const reports = [];
        for (const id of ids) reports.push(await runVerify(repo, id, { quick: flags.quick === true }));
        const ok = reports.every((r) => r.ok);
        const durationMs = Date.now() - started;
        ctx.summarize({
          records: reports.reduce((s, r) => s + r.recordsChecked, 0),
          storedBytes: reports.reduce((s, r) => s + r.bytesRead, 0),
        });
        if (ctx.json) {
          ctx.printJson({ command: 'verify', ok, reports, durationMs });
        } else {
          for (const r of reports) {
            const mode = r.quick ? 'quick' : 'full';
            if (r.ok) {
              ctx.print(
                `backup ${r.backupId}: OK (${mode}: ${r.segmentsChecked} segments, ${r.recordsChecked.toLocaleString()} records, ${formatBytes(r.bytesRead)} read in ${formatDuration(durationMs)})`,
              );
            } else {
              ctx.print(`backup ${r.backupId}: FAILED (${r.problems.length} problem(s))`);
              for (const p of r.problems) {
                const range =
                  p.firstBadOffset === undefined
                    ? ''
                    : ` [offsets ${p.firstBadOffset}..${p.lastBadOffset ?? '?'}]`;
                ctx.print(`  ${p.kind.padEnd(10)} ${p.path}: ${p.message}${range}`);
              }
            }
          }
        }
        return ok ? ExitCode.Ok : ExitCode.VerifyFailed;
      });
    });

  program
    .command('list')
    .description('list the backups in a repository')
    .requiredOption('--repo <dir>', 'repository directory')
    .action(async (flags: { repo: string }) => {
      await run(async (ctx) => {
        const repo = await Repository.open(flags.repo);
        const backups = await repo.listBackups();
        const rows = backups.map((b) => ({
          id: b.id,
          status: b.status,
          completedAt: b.manifest?.completedAt ?? null,
          topics: b.manifest?.topics.map((t) => t.name) ?? [],
          records: b.manifest?.totals.records ?? null,
          storedBytes: b.manifest?.totals.storedBytes ?? null,
          problem: b.problem ?? null,
        }));
        if (ctx.json) {
          ctx.printJson({ command: 'list', repo: flags.repo, backups: rows });
          return 0;
        }
        if (rows.length === 0) {
          ctx.print(`no backups in ${flags.repo}`);
          return 0;
        }
        ctx.print(
          table(
            ['id', 'status', 'completed', 'topics', 'records', 'size'],
            rows.map((r) => [
              r.id,
              r.status,
              r.completedAt ?? '-',
              r.topics.join(',') || (r.problem ?? '-'),
              r.records?.toLocaleString() ?? '-',
              r.storedBytes === null ? '-' : formatBytes(r.storedBytes),
            ]),
          ),
        );
        return 0;
      });
    });

  program
    .command('describe')
    .description('show one backup in detail, per topic and partition')
    .requiredOption('--repo <dir>', 'repository directory')
    .requiredOption('--backup <id|latest>', 'backup to describe')
    .action(async (flags: { repo: string; backup: string }) => {
      await run(async (ctx) => {
        const repo = await Repository.open(flags.repo);
        const manifest = await repo.readManifest(await resolveBackupId(repo, flags.backup));
        if (ctx.json) {
          ctx.printJson({ command: 'describe', status: 'complete', manifest });
          return 0;
        }
        const lines = [
          `backup     ${manifest.backupId} (complete)`,
          `source     cluster ${manifest.source.clusterId} via ${manifest.source.bootstrap}`,
          `time       ${manifest.startedAt} → ${manifest.completedAt}`,
          `options    codec ${manifest.options.codec}, ${manifest.options.isolation}`,
          `totals     ${manifest.totals.records.toLocaleString()} records, ${formatBytes(manifest.totals.payloadBytes)} → ${formatBytes(manifest.totals.storedBytes)} in ${manifest.totals.segments} segments`,
        ];
        for (const t of manifest.topics) {
          lines.push(
            '',
            `topic ${t.name}: ${t.partitionCount} partitions, replication ${t.replicationFactor}`,
          );
          const configs = Object.entries(t.configs);
          if (configs.length > 0) lines.push(`  configs ${configs.map(([k, v]) => `${k}=${v}`).join(', ')}`);
          lines.push(
            table(
              [
                'partition',
                'log start',
                'cut',
                'first',
                'last',
                'records',
                'gaps',
                'segments',
                'min time',
                'max time',
              ],
              t.partitions.map((p) => [
                p.partition,
                p.logStartOffset,
                p.cutOffset,
                p.firstOffset ?? '-',
                p.lastOffset ?? '-',
                p.recordCount,
                p.gaps.length === 0
                  ? '-'
                  : p.gaps
                      .map((g) => `${g.from}-${g.to} ${g.reason}`)
                      .slice(0, 3)
                      .join('; ') + (p.gaps.length > 3 ? ` (+${p.gaps.length - 3})` : ''),
                p.segments.length,
                p.minTimestamp === null ? '-' : new Date(Number(p.minTimestamp)).toISOString(),
                p.maxTimestamp === null ? '-' : new Date(Number(p.maxTimestamp)).toISOString(),
              ]),
            ).replace(/^/gm, '  '),
          );
        }
        if (manifest.consumerGroups.length > 0) {
          lines.push('', 'consumer groups:');
          for (const g of manifest.consumerGroups) {
            lines.push(
              `  ${g.groupId} (${g.state}, ${g.memberCount} members): ${g.offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(', ')}`,
            );
          }
        }
        for (const w of manifest.warnings) lines.push(`warning: ${w}`);
        ctx.print(lines.join('\n'));
        return 0;
      });
    });
}
