import { findErrorBy, GenericError, MultipleErrors, NetworkError, TimeoutError } from '@platformatic/kafka';
import { KbackupError } from '../../core/errors.js';

/** Kafka protocol errors worth retrying: leadership moved, coordinator moving, request timed out. */
const RETRIABLE_API_IDS = [
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REQUEST_TIMED_OUT',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NETWORK_EXCEPTION',
  'KAFKA_STORAGE_ERROR',
  'OFFSET_NOT_AVAILABLE',
  'REBALANCE_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'THROTTLING_QUOTA_EXCEEDED',
];

export function hasApiError(error: unknown, apiId: string): boolean {
  return error instanceof Error && findErrorBy(error, 'apiId', apiId) !== null;
}

export function isRetriableKafkaError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof NetworkError || error instanceof TimeoutError) return true;
  if (findErrorBy(error, 'code', NetworkError.code) ?? findErrorBy(error, 'code', TimeoutError.code))
    return true;
  return RETRIABLE_API_IDS.some((id) => hasApiError(error, id));
}

/** Collects the protocol error ids and messages inside a client error, for a readable one-line message. */
function describeClientError(error: Error): string {
  const parts = new Set<string>();
  const visit = (e: unknown): void => {
    if (!(e instanceof Error)) return;
    const apiId = (e as { apiId?: unknown }).apiId;
    if (typeof apiId === 'string') parts.add(apiId);
    else if (!(e instanceof MultipleErrors)) parts.add(e.message);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner);
    if (e.cause) visit(e.cause);
  };
  visit(error);
  return [...parts].join('; ') || error.message;
}

/** Turns a client-library error into a typed KbackupError with a message a user can act on. */
export function toKbackupError(error: unknown, what: string): KbackupError {
  if (error instanceof KbackupError) return error;
  if (!(error instanceof Error)) return new KbackupError('INTERNAL', `${what}: ${String(error)}`);
  const detail = describeClientError(error);
  if (hasApiError(error, 'UNKNOWN_TOPIC_OR_PARTITION') || hasApiError(error, 'UNKNOWN_TOPIC_ID')) {
    return new KbackupError('TOPIC_NOT_FOUND', `${what}: topic or partition does not exist (${detail})`, {
      cause: error,
      hint: 'Check the topic name with `kbackup list-topics` or your cluster tooling.',
    });
  }
  if (
    hasApiError(error, 'TOPIC_AUTHORIZATION_FAILED') ||
    hasApiError(error, 'GROUP_AUTHORIZATION_FAILED') ||
    hasApiError(error, 'CLUSTER_AUTHORIZATION_FAILED') ||
    hasApiError(error, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED')
  ) {
    return new KbackupError('KAFKA', `${what}: not authorized (${detail})`, {
      cause: error,
      hint: 'Grant the principal the ACLs listed in docs/CONFIGURATION.md, or use another principal.',
    });
  }
  if (hasApiError(error, 'MESSAGE_TOO_LARGE') || hasApiError(error, 'RECORD_TOO_LARGE')) {
    return new KbackupError('KAFKA', `${what}: a record is larger than the target allows (${detail})`, {
      cause: error,
      hint: 'Raise max.message.bytes on the target topic (and message.max.bytes on the brokers).',
    });
  }
  if (hasApiError(error, 'INVALID_TIMESTAMP')) {
    return new KbackupError('KAFKA', `${what}: the broker refused a record timestamp as out of range`, {
      cause: error,
      hint: 'Kafka 4 rejects timestamps more than an hour ahead (message.timestamp.after.max.ms) and, if set, too far behind (message.timestamp.before.max.ms). Raise them on the target topic, e.g. --topic-config message.timestamp.after.max.ms=9223372036854775807.',
    });
  }
  if (isRetriableKafkaError(error) || GenericError.isGenericError(error)) {
    const network =
      error instanceof NetworkError ||
      findErrorBy(error, 'code', NetworkError.code) !== null ||
      error instanceof TimeoutError ||
      findErrorBy(error, 'code', TimeoutError.code) !== null;
    if (network) {
      return new KbackupError('CONNECTION', `${what}: cannot reach the Kafka cluster (${detail})`, {
        cause: error,
        hint: 'Check --bootstrap, the network path and that the brokers are up; the run can be repeated.',
      });
    }
    if (isRetriableKafkaError(error)) {
      return new KbackupError('KAFKA_RETRIABLE', `${what}: ${detail}`, { cause: error });
    }
  }
  return new KbackupError('KAFKA', `${what}: ${detail}`, { cause: error });
}
