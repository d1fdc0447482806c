/**
 * Back-to-back backups of one topic by two or more builds of kbackup, alternating, on one throwaway broker.
 * On a shared 2-core machine single benchmark figures move by ±30% between runs; alternating the builds
 * within one run is how a change is judged (CPU seconds are steadier than MiB/s). Prints one line per run.
 *
 *   npx tsx bench/compare-builds.ts [--size MiB] [--record-size B] [--codecs none,zstd] [--rounds 2]
 *     [--restore] [NAME=VALUE,...@]DIR...
 *
 * --restore also restores each backup (with the build that made it) into a new topic and reports that.
 *
 * Each DIR is a checkout with `npm run build` done (e.g. a `git worktree` of the commit to compare); it
 * runs with the Node flags of its own bin/kbackup. A `NAME=VALUE,...@` prefix runs that build with those
 * environment variables added (e.g. to compare `MALLOC_ARENA_MAX=2@.` with `.`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultKafkaVersion, resolveKafkaLibs, startCluster } from '../tests/support/kafka-harness.js';
import { createTopic } from '../tests/support/kafka-helpers.js';
import { writePayloadFile } from './dataset.js';
import { producerPerformance } from './kafka-tools.js';
import { launcherFlags } from '../tests/support/cli.js';
import { assertOk, runMeasured, type Measured } from './proc.js';

const { values, positionals } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    codecs: { type: 'string', default: 'none,zstd' },
    rounds: { type: 'string', default: '2' },
    'record-size': { type: 'string', default: '1024' },
    restore: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const sizeMiB = Number(values.size);
const rounds = Number(values.rounds);
const builds = positionals.map((spec) => {
  const at = spec.indexOf('@');
  const dir = resolve(at < 0 ? spec : spec.slice(at + 1));
  const env = at < 0 ? '' : spec.slice(0, at);
  const extra = Object.fromEntries(
    env
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { dir, env, vars: { ...process.env, ...extra } };
});
if (builds.length === 0 || !(sizeMiB > 0) || !(rounds > 0)) {
  console.error(
    'usage: npx tsx bench/compare-builds.ts [--size MiB] [--record-size B] [--codecs LIST] [--rounds N] [--restore] [NAME=VALUE,...@]DIR...',
  );
  process.exit(2);
}

const RECORD_BYTES = Number(values['record-size']);

function report(what: string, run: Measured): void {
  const rss = run.timeMaxRssBytes === undefined ? '?' : (run.timeMaxRssBytes / 2 ** 20).toFixed(0);
  console.log(
    `${what}: ${(sizeMiB / (run.wallMs / 1000)).toFixed(0)} MiB/s, CPU ${run.clientCpuS.toFixed(2)} s ` +
      `(kernel ${run.clientSysS.toFixed(2)} s; broker ${run.brokerCpuS.toFixed(2)} s), peak RSS ${rss} MiB`,
  );
}
const libs = await resolveKafkaLibs(defaultKafkaVersion());
const cluster = await startCluster({ nodes: 1, name: 'compare', heapMb: 1024 });
const work = mkdtempSync(join(tmpdir(), 'kbackup-compare-'));
try {
  const broker = cluster.nodes[0];
  if (!broker) throw new Error('the harness started no node');
  const ctx = { libs, bootstrap: cluster.bootstrap, brokerPid: broker.pid };
  const pool = writePayloadFile(join(work, 'payloads.txt'), RECORD_BYTES, 20_000);
  const records = Math.round((sizeMiB * 1024 * 1024) / pool.meanBytes);
  await createTopic(cluster.bootstrap, 'compare', { partitions: 8 });
  await producerPerformance(ctx, 'compare', records, pool.file);
  console.log(`${records} records (~${sizeMiB} MiB) in 8 partitions`);
  for (let round = 1; round <= rounds; round++) {
    for (const codec of values.codecs.split(',')) {
      for (const [i, { dir: build, env, vars }] of builds.entries()) {
        const label = env ? `${env}@${build}` : build;
        const repo = join(work, `repo-${round}-${codec}-${i}`);
        const cli = join(build, 'dist/cli/main.js');
        // Each build runs with its own launcher's Node flags, as its users would.
        const launcher = join(build, 'bin/kbackup');
        const args = ['--json', 'backup', '--bootstrap', cluster.bootstrap, '--topics', 'compare'];
        const run = await runMeasured(
          process.execPath,
          [...launcherFlags(args, launcher), cli, ...args, '--repo', repo, '--codec', codec],
          { brokerPid: broker.pid, env: vars },
        );
        assertOk(run, `backup by ${label}`);
        report(`round ${round}  backup  ${codec.padEnd(5)} ${label}`, run);
        if (values.restore) {
          const { backupId } = JSON.parse(run.stdout) as { backupId: string };
          const target = `compare-${round}-${codec}-${i}`;
          const restoreArgs = ['--json', 'restore', '--bootstrap', cluster.bootstrap, '--repo', repo];
          const restored = await runMeasured(
            process.execPath,
            [
              ...launcherFlags(restoreArgs, launcher),
              cli,
              ...restoreArgs,
              '--backup',
              backupId,
              '--rename',
              `compare=${target}`,
            ],
            { brokerPid: broker.pid, env: vars },
          );
          assertOk(restored, `restore by ${label}`);
          report(`round ${round}  restore ${codec.padEnd(5)} ${label}`, restored);
        }
        rmSync(repo, { recursive: true, force: true });
      }
    }
  }
} finally {
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
