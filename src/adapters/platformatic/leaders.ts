import type { Broker, ClusterMetadata } from '@platformatic/kafka';
import { KbackupError } from '../../core/errors.js';

export interface PartitionLeader {
  /** The topic's id (Fetch v13+ names topics by id). */
  id: string;
  leader: number;
  broker: Broker;
}

interface TopicLeaders {
  id: string;
  leaders: number[];
  brokers: ClusterMetadata['brokers'];
  fetchedAt: number;
}

/** Leaders move rarely; a retriable error forgets the topic at once, so this only bounds staleness. */
const MAX_AGE_MS = 30_000;

/**
 * Each partition's leader and its address, from topic metadata cached per topic. Fetches and produce calls
 * go straight to the leader; when one fails with a retriable error the caller forgets the topic (or all
 * topics), and the next lookup reads fresh metadata.
 */
export class LeaderCache {
  readonly #byTopic = new Map<string, TopicLeaders>();

  constructor(private readonly readMetadata: (topic: string) => Promise<ClusterMetadata>) {}

  async lookup(topic: string, partition: number): Promise<PartitionLeader> {
    let cached = this.#byTopic.get(topic);
    if (!cached || Date.now() - cached.fetchedAt > MAX_AGE_MS) {
      const metadata = await this.readMetadata(topic);
      const t = metadata.topics.get(topic);
      if (!t) throw new KbackupError('TOPIC_NOT_FOUND', `topic "${topic}" does not exist on the cluster`);
      cached = {
        id: t.id,
        leaders: t.partitions.map((p) => p.leader),
        brokers: metadata.brokers,
        fetchedAt: Date.now(),
      };
      this.#byTopic.set(topic, cached);
    }
    const leader = cached.leaders[partition];
    if (leader === undefined) {
      throw new KbackupError('TOPIC_NOT_FOUND', `partition ${partition} of topic "${topic}" does not exist`);
    }
    const broker = cached.brokers.get(leader);
    if (leader < 0 || !broker) {
      this.#byTopic.delete(topic);
      throw new KbackupError(
        'KAFKA_RETRIABLE',
        `partition ${topic}-${partition} has no leader in the metadata`,
      );
    }
    return { id: cached.id, leader, broker };
  }

  forget(topic: string): void {
    this.#byTopic.delete(topic);
  }

  clear(): void {
    this.#byTopic.clear();
  }
}
