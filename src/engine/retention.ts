import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { planRetention, type RetentionDecision, type RetentionPolicy } from '../core/retention.js';
import { FileLock } from '../storage/lock.js';
import type { Repository } from '../storage/repository.js';

export interface ForgetResult {
  dryRun: boolean;
  decisions: RetentionDecision[];
  removed: string[];
}

/** forget: plans with the policy, then (unless --dry-run) removes the backups the plan does not keep. */
export async function runForget(
  repo: Repository,
  policy: RetentionPolicy,
  dryRun: boolean,
): Promise<ForgetResult> {
  const lock = dryRun ? undefined : await repo.lockExclusive('forget');
  try {
    const complete = (await repo.listBackups()).filter((b) => b.status === 'complete' && b.manifest);
    const decisions = planRetention(
      complete.map((b) => ({
        id: b.id,
        completedAt: new Date(b.manifest?.completedAt ?? 0),
        parent: b.manifest?.parent ?? null,
      })),
      policy,
    );
    const removed: string[] = [];
    if (!dryRun) {
      for (const d of decisions.filter((x) => !x.keep)) {
        await repo.removeBackup(d.id);
        removed.push(d.id);
      }
    }
    return { dryRun, decisions, removed };
  } finally {
    await lock?.release();
  }
}

export interface PruneItem {
  path: string;
  reason: string;
}

export interface PruneResult {
  dryRun: boolean;
  items: PruneItem[];
}

/**
 * prune: removes what no complete backup needs: leftovers of interrupted removals, incomplete backups
 * older than `incompleteOlderThanMs` that no live process is writing (they can no longer be resumed
 * usefully), and restore states of backups that are gone.
 */
export async function runPrune(
  repo: Repository,
  incompleteOlderThanMs: number,
  dryRun: boolean,
  now = Date.now(),
): Promise<PruneResult> {
  const lock = dryRun ? undefined : await repo.lockExclusive('prune');
  try {
    const items: PruneItem[] = (await repo.trashEntries()).map((path) => ({
      path,
      reason: 'leftover of an interrupted removal',
    }));
    const listing = await repo.listBackups();
    for (const b of listing.filter((x) => x.status === 'incomplete')) {
      const writer = await FileLock.liveHolder(join(repo.root, 'locks', `backup-${b.id}.lock`));
      if (writer !== undefined) continue;
      const modified = (await stat(repo.backupDir(b.id))).mtimeMs;
      if (now - modified >= incompleteOlderThanMs) {
        items.push({
          path: repo.backupDir(b.id),
          reason: `incomplete backup, untouched for ${Math.round((now - modified) / 3_600_000)} h`,
        });
      }
    }
    const existing = new Set(listing.map((b) => b.id));
    for (const state of await repo.restoreStates()) {
      if (!existing.has(state.backupId))
        items.push({ path: state.path, reason: `restore state of removed backup ${state.backupId}` });
    }
    if (!dryRun) for (const item of items) await rm(item.path, { recursive: true, force: true });
    return { dryRun, items };
  } finally {
    await lock?.release();
  }
}
