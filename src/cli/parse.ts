import { KbackupError } from '../core/errors.js';

/** Parsers for flag values. Each throws a USAGE error naming the flag and the expected form. */

export function parseBootstrap(flag: string, text: string | undefined): string[] {
  if (!text) throw new KbackupError('USAGE', `${flag} is required`, { hint: `e.g. ${flag} 127.0.0.1:9092` });
  const brokers = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const b of brokers) {
    const port = Number(/:(\d{1,5})$/.exec(b)?.[1] ?? NaN);
    const shaped = /^[^\s:]+:\d{1,5}$/.test(b) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b);
    if (!shaped || port < 1 || port > 65535) {
      throw new KbackupError('USAGE', `${flag}: "${b}" is not host:port (port 1-65535)`, {
        hint: `e.g. ${flag} 127.0.0.1:9092,10.0.0.2:9092`,
      });
    }
  }
  return brokers;
}

export function parseIntFlag(flag: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(text.trim()))
    throw new KbackupError('USAGE', `${flag} must be an integer, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max)
    throw new KbackupError('USAGE', `${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function parseOffsetFlag(flag: string, text: string): bigint {
  const t = text.trim();
  if (!/^\d{1,19}$/.test(t) || BigInt(t) > 2n ** 63n - 1n) {
    throw new KbackupError('USAGE', `${flag} must be a non-negative int64 offset, got "${text}"`);
  }
  return BigInt(t);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** "64MiB", "512k", "1048576" → bytes. */
export function parseSize(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined)
    throw new KbackupError('USAGE', `${flag} must be a size like 64MiB or 512k, got "${text}"`);
  return Math.round(Number(m[1]) * unit);
}

/** ISO-8601 with a zone (2026-11-22T14:01:59.999Z, ...+01:00) or epoch milliseconds → epoch ms. */
export function parseTime(flag: string, text: string): bigint {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return BigInt(t);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/.test(t)) {
    throw new KbackupError(
      'USAGE',
      `${flag} must be ISO-8601 with a zone or epoch milliseconds, got "${text}"`,
      {
        hint: `e.g. ${flag} 2026-11-22T14:01:59.999Z or ${flag} 1795356119999`,
      },
    );
  }
  // Date.parse rolls impossible dates over (Feb 30 → Mar 2); check the calendar fields ourselves.
  const [year, month, day, hour, minute] = t.slice(0, 16).split(/[-T:]/).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const calendar = new Date(Date.UTC(year, month - 1, day, hour, minute));
  const ms = Date.parse(t);
  if (
    Number.isNaN(ms) ||
    calendar.getUTCFullYear() !== year ||
    calendar.getUTCMonth() !== month - 1 ||
    calendar.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59
  ) {
    throw new KbackupError('USAGE', `${flag}: "${text}" is not a valid time`);
  }
  return BigInt(ms);
}

/** "a=b,c=d" (repeatable) → Map. */
export function parseRenames(flag: string, values: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of values.flatMap((v) => v.split(','))) {
    const trimmed = item.trim();
    if (!trimmed) continue;
    const [from, to, extra] = trimmed.split('=').map((s) => s.trim());
    if (!from || !to || extra !== undefined)
      throw new KbackupError('USAGE', `${flag} expects old=new, got "${trimmed}"`);
    out.set(from, to);
  }
  return out;
}

export function parseKeyValues(flag: string, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of values) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new KbackupError('USAGE', `${flag} expects key=value, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export function parseIntList(flag: string, values: string[]): number[] {
  return values
    .flatMap((v) => v.split(','))
    .filter((s) => s.trim() !== '')
    .map((s) => parseIntFlag(flag, s, 0));
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "10m", "2h", "7d" → milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  const unit = DURATION_UNITS[m?.[2] ?? ''];
  if (!m || unit === undefined)
    throw new KbackupError('USAGE', `${flag} must be a duration like 30s, 10m or 500ms, got "${text}"`);
  return Math.round(Number(m[1]) * unit);
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
