import type { Command } from 'commander';
import type { RetentionPolicy } from '../../core/retention.js';
import { runForget, runPrune } from '../../engine/retention.js';
import { Repository } from '../../storage/repository.js';
import type { CommandContext } from '../context.js';
import { parseDuration, parseIntFlag } from '../parse.js';
import { table } from '../render.js';

type Run = (fn: (ctx: CommandContext) => Promise<number>) => Promise<void>;

interface ForgetFlags {
  repo: string;
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  dryRun?: boolean;
  prune?: boolean;
}

function policyFrom(flags: ForgetFlags): RetentionPolicy {
  const policy: RetentionPolicy = {};
  const count = (flag: string, value: string | undefined): number | undefined =>
    value === undefined ? undefined : parseIntFlag(flag, value, 0);
  const set = (key: keyof RetentionPolicy, value: number | undefined): void => {
    if (value !== undefined) policy[key] = value;
  };
  set('keepLast', count('--keep-last', flags.keepLast));
  set('keepHourly', count('--keep-hourly', flags.keepHourly));
  set('keepDaily', count('--keep-daily', flags.keepDaily));
  set('keepWeekly', count('--keep-weekly', flags.keepWeekly));
  set('keepMonthly', count('--keep-monthly', flags.keepMonthly));
  set('keepYearly', count('--keep-yearly', flags.keepYearly));
  if (flags.keepWithin !== undefined) policy.keepWithinMs = parseDuration('--keep-within', flags.keepWithin);
  return policy;
}

/** forget and prune, modelled on restic's: plan first, then execute (unless --dry-run). */
export function registerRetention(program: Command, run: Run): void {
  program
    .command('forget')
    .description('remove backups a retention policy does not keep (never breaking an incremental chain)')
    .requiredOption('--repo <dir>', 'repository directory')
    .option('--keep-last <n>', 'keep the n newest backups')
    .option('--keep-hourly <n>', 'keep the newest backup of each of the last n hours that have one')
    .option('--keep-daily <n>', 'keep the newest backup of each of the last n days that have one')
    .option('--keep-weekly <n>', 'keep the newest backup of each of the last n ISO weeks that have one')
    .option('--keep-monthly <n>', 'keep the newest backup of each of the last n months that have one')
    .option('--keep-yearly <n>', 'keep the newest backup of each of the last n years that have one')
    .option('--keep-within <duration>', 'keep every backup within this duration of the newest (e.g. 30d)')
    .option('--dry-run', 'print the plan and remove nothing')
    .option('--prune', 'run prune afterwards')
    .action(async (flags: ForgetFlags) => {
      await run(async (ctx) => {
        const repo = await Repository.open(flags.repo);
        const result = await runForget(repo, policyFrom(flags), flags.dryRun === true);
        const pruned =
          flags.prune === true ? await runPrune(repo, 24 * 3_600_000, flags.dryRun === true) : undefined;
        if (ctx.json) {
          ctx.printJson({ command: 'forget', ...result, prune: pruned ?? null });
          return 0;
        }
        ctx.print(
          table(
            ['backup', 'completed', 'action', 'reasons'],
            result.decisions.map((d) => [
              d.id,
              d.completedAt,
              d.keep ? 'keep' : result.dryRun ? 'would remove' : 'removed',
              d.reasons.join(', '),
            ]),
          ),
        );
        const removing = result.decisions.filter((d) => !d.keep).length;
        ctx.print(
          result.dryRun
            ? `dry run: ${removing} backup(s) would be removed`
            : `removed ${result.removed.length} backup(s)`,
        );
        for (const item of pruned?.items ?? [])
          ctx.print(`${pruned?.dryRun ? 'would prune' : 'pruned'} ${item.path}: ${item.reason}`);
        return 0;
      });
    });

  program
    .command('prune')
    .description(
      'delete leftovers: interrupted removals, stale incomplete backups, restore states of removed backups',
    )
    .requiredOption('--repo <dir>', 'repository directory')
    .option(
      '--incomplete-older-than <duration>',
      'remove incomplete backups untouched this long (and not running)',
      '24h',
    )
    .option('--dry-run', 'print what would be deleted and delete nothing')
    .action(async (flags: { repo: string; incompleteOlderThan: string; dryRun?: boolean }) => {
      await run(async (ctx) => {
        const repo = await Repository.open(flags.repo);
        const result = await runPrune(
          repo,
          parseDuration('--incomplete-older-than', flags.incompleteOlderThan),
          flags.dryRun === true,
        );
        if (ctx.json) {
          ctx.printJson({ command: 'prune', ...result });
          return 0;
        }
        if (result.items.length === 0) ctx.print('nothing to prune');
        for (const item of result.items)
          ctx.print(`${result.dryRun ? 'would delete' : 'deleted'} ${item.path}: ${item.reason}`);
        return 0;
      });
    });
}
