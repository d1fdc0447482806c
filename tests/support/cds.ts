import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Class Data Sharing for broker JVMs. Starting a broker is CPU-bound class loading; on 2 cores with three JVMs
 * that is most of a cluster's startup. A dynamic CDS archive (JDK 13+) made from one real broker run cuts a
 * single node's start from ~3.0 s to ~1.9 s here. The archive is tied to the exact JVM build and class path,
 * so its name hashes `java -version` and the jar list; a stale one is ignored by the JVM (-Xshare:auto), never
 * fatal. The first single-node cluster of a version records it. KBACKUP_KAFKA_CDS=0 turns this off.
 */
export interface CdsPlan {
  /** JVM flags for the broker that uses or trains the archive. */
  flags: string[];
  /** Flags for short-lived tools (StorageTool): the archive when it exists, since it covers their classes too. */
  toolFlags: string[];
  /** True when this JVM records the archive; it is written only if the JVM exits normally (SIGTERM). */
  training: boolean;
  /** After a training JVM exited normally: publish its archive for later runs. */
  commit: () => void;
}

let javaBuild: Promise<string> | undefined;

async function javaBuildId(): Promise<string> {
  javaBuild ??= execFileAsync('java', ['-version']).then(({ stdout, stderr }) =>
    createHash('sha256')
      .update(stdout + stderr)
      .digest('hex')
      .slice(0, 12),
  );
  return javaBuild;
}

const NONE: CdsPlan = { flags: [], toolFlags: [], training: false, commit: () => undefined };

/** The plan for one broker JVM: use the archive if it exists, else (if `mayTrain`) record one. */
export async function planCds(libs: string, mayTrain: boolean): Promise<CdsPlan> {
  if (process.env.KBACKUP_KAFKA_CDS === '0') return NONE;
  let build: string;
  try {
    build = await javaBuildId();
  } catch {
    return NONE; // No java: the broker start reports that better.
  }
  // The JVM silently ignores an archive whose class path differs, so a changed jar set needs a new name.
  const jars = readdirSync(libs)
    .sort()
    .map((f) => `${f}:${statSync(join(libs, f)).size}`)
    .join('\n');
  const id = createHash('sha256').update(`${build}\n${jars}`).digest('hex').slice(0, 16);
  const archive = join(dirname(libs), `broker-${id}.jsa`);
  if (existsSync(archive)) {
    const flags = [`-XX:SharedArchiveFile=${archive}`];
    return { flags, toolFlags: flags, training: false, commit: NONE.commit };
  }
  if (!mayTrain) return NONE;
  const pending = `${archive}.${process.pid}.tmp`;
  return {
    flags: [`-XX:ArchiveClassesAtExit=${pending}`, '-Xlog:cds=off', '-Xlog:cds+dynamic=off'],
    toolFlags: [],
    training: true,
    commit: () => {
      try {
        // A torn dump (JVM killed while writing) would be rejected by the JVM anyway; require a plausible size.
        if (existsSync(pending) && statSync(pending).size > 1_000_000) renameSync(pending, archive);
      } finally {
        rmSync(pending, { force: true });
      }
    },
  };
}
