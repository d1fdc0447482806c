import { describe, expect, it } from 'vitest';
import {
  parseTopicPatterns,
  selectTopics,
  toMatcher,
  type TopicSelection,
} from '../../../src/core/topic-select.js';
import { expectKbackupError } from './helpers.js';

const AVAILABLE = [
  'payments-eu',
  'orders',
  '__consumer_offsets',
  'orders-archive',
  'payments-us',
  'audit.log',
  'auditXlog',
  '__transaction_state',
  'o1',
  'o12',
];

const sel = (include: string[], exclude: string[] = [], includeInternal = false): TopicSelection => ({
  include,
  exclude,
  includeInternal,
});

describe('parseTopicPatterns', () => {
  it('returns [] for undefined, an empty string and blanks', () => {
    expect(parseTopicPatterns(undefined)).toEqual([]);
    expect(parseTopicPatterns('')).toEqual([]);
    expect(parseTopicPatterns(' , ,')).toEqual([]);
    expect(parseTopicPatterns([])).toEqual([]);
  });

  it('splits on commas and trims items', () => {
    expect(parseTopicPatterns(' orders , payments-* ,,audit ')).toEqual(['orders', 'payments-*', 'audit']);
  });

  it('accepts a repeated flag and flattens it in order', () => {
    expect(parseTopicPatterns(['a,b', 'c', ' d , e'])).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps commas inside a /regex/', () => {
    expect(parseTopicPatterns('/a{1,3}/,b')).toEqual(['/a{1,3}/', 'b']);
    expect(parseTopicPatterns('x, /^(p|q){2,}$/ ,y')).toEqual(['x', '/^(p|q){2,}$/', 'y']);
    expect(parseTopicPatterns(['/o{1,2}/', '/a,b/,c'])).toEqual(['/o{1,2}/', '/a,b/', 'c']);
  });

  it('treats a slash inside a name (not at the start) as a plain character', () => {
    expect(parseTopicPatterns('a/b,c')).toEqual(['a/b', 'c']);
  });
});

describe('toMatcher', () => {
  it('classifies exact names, globs and regexes', () => {
    expect(toMatcher('orders')).toEqual({ kind: 'exact', name: 'orders' });
    expect(toMatcher('orders-*').kind).toBe('pattern');
    expect(toMatcher('o?').kind).toBe('pattern');
    expect(toMatcher('/^o/').kind).toBe('pattern');
    // "//" is too short to be a regex: it is an exact name.
    expect(toMatcher('//')).toEqual({ kind: 'exact', name: '//' });
  });
});

describe('selectTopics', () => {
  it('selects exact names', () => {
    expect(selectTopics(AVAILABLE, sel(['orders']))).toEqual(['orders']);
    expect(selectTopics(AVAILABLE, sel(['payments-us', 'orders']))).toEqual(['orders', 'payments-us']);
  });

  it('matches `*` against any run of characters, including none', () => {
    expect(selectTopics(AVAILABLE, sel(['orders*']))).toEqual(['orders', 'orders-archive']);
    expect(selectTopics(AVAILABLE, sel(['payments-*']))).toEqual(['payments-eu', 'payments-us']);
  });

  it('matches `?` against exactly one character', () => {
    expect(selectTopics(AVAILABLE, sel(['o?']))).toEqual(['o1']);
    expect(selectTopics(AVAILABLE, sel(['o??']))).toEqual(['o12']);
  });

  it('anchors globs and escapes regex metacharacters in them', () => {
    // "." in a glob is literal: audit.log matches, auditXlog does not.
    expect(selectTopics(AVAILABLE, sel(['audit.l*']))).toEqual(['audit.log']);
    // Anchored: "rders*" does not match "orders".
    expect(selectTopics(AVAILABLE, sel(['rders*']))).toEqual([]);
  });

  it('selects with /regex/ (unanchored unless the regex anchors itself)', () => {
    expect(selectTopics(AVAILABLE, sel(['/^payments-(eu|us)$/']))).toEqual(['payments-eu', 'payments-us']);
    expect(selectTopics(AVAILABLE, sel(['/archive/']))).toEqual(['orders-archive']);
    expect(selectTopics(AVAILABLE, sel(['/^o\\d{1,2}$/']))).toEqual(['o1', 'o12']);
    expect(selectTopics(AVAILABLE, sel(['/audit.log/']))).toEqual(['audit.log', 'auditXlog']);
  });

  it('applies excludes with the same syntax', () => {
    expect(selectTopics(AVAILABLE, sel(['*'], ['payments-*', '/^o\\d/', 'audit.log']))).toEqual([
      'auditXlog',
      'orders',
      'orders-archive',
    ]);
    // An exact include can still be excluded.
    expect(selectTopics(AVAILABLE, sel(['orders'], ['orders']))).toEqual([]);
  });

  it('excludes internal topics from patterns unless includeInternal', () => {
    const all = selectTopics(AVAILABLE, sel(['*']));
    expect(all).not.toContain('__consumer_offsets');
    expect(all).not.toContain('__transaction_state');
    expect(all).toHaveLength(AVAILABLE.length - 2);
    expect(selectTopics(AVAILABLE, sel(['/^__/']))).toEqual([]);
    expect(selectTopics(AVAILABLE, sel(['__*'], [], true))).toEqual([
      '__consumer_offsets',
      '__transaction_state',
    ]);
    expect(selectTopics(AVAILABLE, sel(['*'], [], true))).toHaveLength(AVAILABLE.length);
  });

  it('selects an internal topic by exact name without includeInternal', () => {
    expect(selectTopics(AVAILABLE, sel(['__consumer_offsets']))).toEqual(['__consumer_offsets']);
    expect(selectTopics(AVAILABLE, sel(['__consumer_offsets', 'orders*']))).toEqual([
      '__consumer_offsets',
      'orders',
      'orders-archive',
    ]);
  });

  it('fails with TOPIC_NOT_FOUND listing every missing exact name', () => {
    const error = expectKbackupError(
      () => selectTopics(AVAILABLE, sel(['orders', 'ordrs', 'payments-*', 'paymnts'])),
      'TOPIC_NOT_FOUND',
      /ordrs, paymnts/,
    );
    expect(error.exitCode).toBe(2);
    expect(error.hint).toBeDefined();
  });

  it('does not fail when a glob or regex matches nothing', () => {
    expect(selectTopics(AVAILABLE, sel(['nothing-*', '/^zzz$/']))).toEqual([]);
  });

  it('fails with USAGE on an invalid regex, naming it', () => {
    expectKbackupError(() => selectTopics(AVAILABLE, sel(['/(unclosed/'])), 'USAGE', /\/\(unclosed\//);
    expectKbackupError(
      () => selectTopics(AVAILABLE, sel(['orders'], ['/[z-a]/'])),
      'USAGE',
      /invalid regular/,
    );
  });

  it('fails with USAGE when nothing is included', () => {
    const error = expectKbackupError(() => selectTopics(AVAILABLE, sel([])), 'USAGE', /no topics selected/);
    expect(error.hint).toMatch(/--topics/);
  });

  it('returns a sorted list without duplicates', () => {
    const result = selectTopics(['c', 'a', 'b', 'a'], sel(['a', '*', 'b', '/a|b/']));
    expect(result).toEqual(['a', 'b', 'c']);
    const big = selectTopics(AVAILABLE, sel(['orders', 'orders*', '/^orders/']));
    expect(big).toEqual(['orders', 'orders-archive']);
  });

  it('returns an empty list when no topic exists and only patterns are given', () => {
    expect(selectTopics([], sel(['*']))).toEqual([]);
    expectKbackupError(() => selectTopics([], sel(['x'])), 'TOPIC_NOT_FOUND', /x/);
  });
});
