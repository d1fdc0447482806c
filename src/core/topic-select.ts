import { KbackupError } from './errors.js';

/**
 * Topic selection for backup: a comma-separated list whose items are exact names, globs (`*`, `?`) or
 * regular expressions written as `/.../`. Excludes use the same syntax. Internal topics (names starting
 * with `__`) are only selected when asked for. Exact names that do not exist are an error, so that a typo
 * never yields a silently empty backup.
 */
export interface TopicSelection {
  include: string[];
  exclude: string[];
  includeInternal: boolean;
}

type Matcher = { kind: 'exact'; name: string } | { kind: 'pattern'; source: string; re: RegExp };

export function parseTopicPatterns(text: string | string[] | undefined): string[] {
  const items = Array.isArray(text) ? text : text === undefined ? [] : [text];
  return items
    .flatMap((item) => splitList(item))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Splits on commas that are not inside a /regex/. */
function splitList(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let inRegex = false;
  for (const ch of text) {
    if (ch === '/' && current.trim() === '' && !inRegex) inRegex = true;
    else if (ch === '/' && inRegex) inRegex = false;
    if (ch === ',' && !inRegex) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export function toMatcher(pattern: string): Matcher {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    const source = pattern.slice(1, -1);
    try {
      return { kind: 'pattern', source: pattern, re: new RegExp(source) };
    } catch (error) {
      throw new KbackupError('USAGE', `invalid regular expression ${pattern}: ${(error as Error).message}`);
    }
  }
  if (/[*?]/.test(pattern)) return { kind: 'pattern', source: pattern, re: globToRegExp(pattern) };
  return { kind: 'exact', name: pattern };
}

const isInternal = (topic: string): boolean => topic.startsWith('__');

export function selectTopics(available: readonly string[], selection: TopicSelection): string[] {
  if (selection.include.length === 0) {
    throw new KbackupError('USAGE', 'no topics selected', {
      hint: "Pass --topics with names, globs or /regexes/, e.g. --topics 'orders,payments-*'.",
    });
  }
  const include = selection.include.map(toMatcher);
  const exclude = selection.exclude.map(toMatcher);
  const availableSet = new Set(available);
  const missing = include.filter((m) => m.kind === 'exact' && !availableSet.has(m.name));
  if (missing.length > 0) {
    const names = missing.map((m) => (m.kind === 'exact' ? m.name : m.source)).join(', ');
    throw new KbackupError('TOPIC_NOT_FOUND', `topic(s) not found on the source cluster: ${names}`, {
      hint: 'Check the spelling; use a glob (orders-*) or /regex/ to select topics that may not exist.',
    });
  }
  const matches = (m: Matcher, topic: string): boolean =>
    m.kind === 'exact' ? m.name === topic : m.re.test(topic);
  const selected = available.filter((topic) => {
    const included = include.some((m) => {
      // An exact name selects an internal topic explicitly; patterns select internal ones only when asked.
      if (m.kind === 'exact') return m.name === topic;
      return (selection.includeInternal || !isInternal(topic)) && matches(m, topic);
    });
    return included && !exclude.some((m) => matches(m, topic));
  });
  // Code-point order: the same on every machine, whatever the locale.
  return [...new Set(selected)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
