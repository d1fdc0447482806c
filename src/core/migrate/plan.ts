import { KbackupError } from '../errors.js';
import { selectTopics, toMatcher } from '../topic-select.js';

export interface TopicMapping {
  sourceTopic: string;
  targetTopic: string;
}

export interface MigrateSelectionInput {
  /** Topics of the source cluster. */
  available: readonly string[];
  include: readonly string[];
  exclude: readonly string[];
  renames: ReadonlyMap<string, string>;
  /** Source and target are the same cluster (same cluster id). */
  sameCluster: boolean;
  /** Target topics an earlier run of this migration already writes into. */
  knownTargets: readonly string[];
}

/**
 * Pure planner: which source topics a migration copies and into which target topics. On one cluster a
 * topic is never copied onto itself, and the migration's own targets are never picked up again as
 * sources by a pattern (an exact name that is also a target is refused instead).
 */
export function planTopicMapping(input: MigrateSelectionInput): TopicMapping[] {
  const targetsOfThis = new Set([...input.renames.values(), ...input.knownTargets]);
  const exact = new Set(input.include.map(toMatcher).flatMap((m) => (m.kind === 'exact' ? [m.name] : [])));
  let sources = selectTopics(input.available, {
    include: [...input.include],
    exclude: [...input.exclude],
    includeInternal: false,
  });
  if (input.sameCluster) sources = sources.filter((t) => exact.has(t) || !targetsOfThis.has(t));
  const chosen = new Set(sources);
  for (const source of input.renames.keys()) {
    if (!chosen.has(source)) {
      throw new KbackupError('USAGE', `--rename names topic ${source}, which is not selected by --topics`, {
        hint: `Selected: ${sources.join(', ') || '(none)'}.`,
      });
    }
  }
  const byTarget = new Map<string, string>();
  const mapping = sources.map((sourceTopic) => {
    const targetTopic = input.renames.get(sourceTopic) ?? sourceTopic;
    const clash = byTarget.get(targetTopic);
    if (clash !== undefined) {
      throw new KbackupError(
        'USAGE',
        `topics ${clash} and ${sourceTopic} would both be migrated into ${targetTopic}`,
      );
    }
    byTarget.set(targetTopic, sourceTopic);
    return { sourceTopic, targetTopic };
  });
  if (input.sameCluster) {
    for (const m of mapping) {
      if (m.targetTopic === m.sourceTopic) {
        throw new KbackupError(
          'USAGE',
          `source and target are the same cluster: topic ${m.sourceTopic} would be copied onto itself`,
          { hint: `Pass --rename ${m.sourceTopic}=${m.sourceTopic}-copy (any new name).` },
        );
      }
      if (chosen.has(m.targetTopic)) {
        throw new KbackupError(
          'USAGE',
          `topic ${m.targetTopic} is both a source and the target of ${m.sourceTopic}`,
          { hint: 'Rename into a topic that is not migrated itself.' },
        );
      }
    }
  }
  return mapping;
}
