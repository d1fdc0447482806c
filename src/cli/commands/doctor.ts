import type { Command } from 'commander';
import { ExitCode } from '../../core/exit-codes.js';
import { runDoctor } from '../../engine/doctor.js';
import type { CommandContext } from '../context.js';
import { table } from '../render.js';

type Run = (fn: (ctx: CommandContext) => Promise<number>) => Promise<void>;

/** doctor: checks a cluster (and optionally a repository) before backups or restores depend on them. */
export function registerDoctor(program: Command, run: Run): void {
  program
    .command('doctor')
    .description('check connectivity, auth, protocol versions, permissions and repository space')
    .option('--bootstrap <host:port,...>', 'cluster brokers')
    .option('--repo <dir>', 'also check the free space of this repository')
    .action(async (flags: { bootstrap?: string; repo?: string }) => {
      await run(async (ctx) => {
        const { port } = ctx.kafka('--bootstrap', flags.bootstrap);
        try {
          const checks = await runDoctor(port, flags.repo);
          const problems = checks.filter((c) => c.status === 'fail');
          if (ctx.json) ctx.printJson({ command: 'doctor', ok: problems.length === 0, checks });
          else {
            ctx.print(
              table(
                ['check', 'status', 'detail'],
                checks.map((c) => [c.name, c.status.toUpperCase(), c.detail]),
              ),
            );
            ctx.print(problems.length === 0 ? 'no problems found' : `${problems.length} problem(s) found`);
          }
          if (problems.length === 0) return ExitCode.Ok;
          const connectivity = problems.find((p) => p.name.startsWith('connectivity'));
          if (connectivity === undefined) return ExitCode.Failure;
          // Refused credentials or an untrusted certificate will not heal by retrying: a config error.
          return connectivity.errorCode === 'AUTHENTICATION' ? ExitCode.Config : ExitCode.Connection;
        } finally {
          await port.close();
        }
      });
    });
}
