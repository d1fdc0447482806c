import { KbackupError } from './errors.js';

/** restic-style retention: which complete backups `forget` keeps, and why. */
export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** Keep every backup taken within this many ms of the newest one. */
  keepWithinMs?: number;
}

export interface BackupInfo {
  id: string;
  completedAt: Date;
  parent: string | null;
}

export interface RetentionDecision {
  id: string;
  completedAt: string;
  keep: boolean;
  reasons: string[];
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** ISO-8601 week "2026-W47" (UTC), so that weeks do not depend on the machine's locale or zone. */
function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${pad(week)}`;
}

const buckets: { key: keyof RetentionPolicy; label: string; of: (d: Date) => string }[] = [
  { key: 'keepHourly', label: 'hourly', of: (d) => d.toISOString().slice(0, 13) },
  { key: 'keepDaily', label: 'daily', of: (d) => d.toISOString().slice(0, 10) },
  { key: 'keepWeekly', label: 'weekly', of: isoWeek },
  { key: 'keepMonthly', label: 'monthly', of: (d) => d.toISOString().slice(0, 7) },
  { key: 'keepYearly', label: 'yearly', of: (d) => d.toISOString().slice(0, 4) },
];

/**
 * Plans `forget`, as restic does: keep the N newest (--keep-last); for each of the N newest hours, days,
 * weeks, months or years that have backups, the newest one in it; and everything within a duration of
 * the newest backup. Then, so that no incremental chain breaks, every ancestor of a kept backup is kept
 * too ("parent of ..."). All times are UTC. Pure: the caller executes the plan.
 */
export function planRetention(backups: readonly BackupInfo[], policy: RetentionPolicy): RetentionDecision[] {
  const counts = Object.values(policy).filter((v) => v !== undefined);
  if (counts.length === 0) {
    throw new KbackupError('USAGE', 'no retention policy given: forget would remove every backup', {
      hint: 'Pass at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-within.',
    });
  }
  const newestFirst = [...backups].sort((a, b) => b.completedAt.getTime() - a.completedAt.getTime());
  const reasons = new Map<string, string[]>(newestFirst.map((b) => [b.id, []]));
  const why = (id: string, reason: string): void => {
    reasons.get(id)?.push(reason);
  };
  newestFirst.slice(0, policy.keepLast ?? 0).forEach((b) => {
    why(b.id, 'last');
  });
  for (const bucket of buckets) {
    const limit = policy[bucket.key];
    if (limit === undefined || limit <= 0) continue;
    const seen = new Set<string>();
    for (const b of newestFirst) {
      const key = bucket.of(b.completedAt);
      if (seen.has(key)) continue;
      if (seen.size >= limit) break;
      seen.add(key);
      why(b.id, `${bucket.label} ${key}`);
    }
  }
  const newest = newestFirst[0]?.completedAt.getTime();
  if (policy.keepWithinMs !== undefined && newest !== undefined) {
    for (const b of newestFirst)
      if (newest - b.completedAt.getTime() <= policy.keepWithinMs) why(b.id, 'within');
  }
  // A kept incremental backup needs its whole chain.
  const byId = new Map(backups.map((b) => [b.id, b]));
  for (const b of newestFirst) {
    if ((reasons.get(b.id) ?? []).length === 0) continue;
    for (let parent = b.parent, child = b.id; parent !== null;) {
      const link = byId.get(parent);
      if (!link) break;
      if (!(reasons.get(parent) ?? []).some((r) => r.startsWith('parent of')))
        why(parent, `parent of ${child}`);
      child = parent;
      parent = link.parent;
    }
  }
  return newestFirst.map((b) => {
    const r = reasons.get(b.id) ?? [];
    return { id: b.id, completedAt: b.completedAt.toISOString(), keep: r.length > 0, reasons: r };
  });
}
