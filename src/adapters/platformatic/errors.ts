import {
  AuthenticationError,
  findErrorBy,
  GenericError,
  MultipleErrors,
  NetworkError,
  TimeoutError,
  UserError,
} from '@platformatic/kafka';
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

/** What went wrong when a broker refused our credentials, or TLS between us and it failed. */
interface SecurityFailure {
  message: string;
  hint: string;
}

/** Every error inside `error`: itself, its causes and the members of aggregates, depth first. */
function* nested(error: unknown, depth = 0): Generator<Error> {
  if (!(error instanceof Error) || depth > 8) return;
  yield error;
  if (error instanceof AggregateError) for (const inner of error.errors) yield* nested(inner, depth + 1);
  yield* nested(error.cause, depth + 1);
}

/** node:tls codes (OpenSSL's X509_V_ERR names) for a broker certificate that does not verify. */
const CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const SASL_HINTS: Record<string, string> = {
  SASL_AUTHENTICATION_FAILED:
    'Check --sasl-username, the password (the variable named by --sasl-password-env, default ' +
    'KBACKUP_SASL_PASSWORD, or --sasl-password-file) and --sasl-mechanism, or the cluster in --config.',
  UNSUPPORTED_SASL_MECHANISM:
    'This listener does not offer that mechanism: check --sasl-mechanism against the brokers’ sasl.enabled.mechanisms.',
  ILLEGAL_SASL_STATE:
    'This listener does not use SASL: check the port in --bootstrap, or drop --sasl-mechanism.',
};

/**
 * Recognises authentication failures: SASL refused, the broker's certificate not trusted, TLS spoken to a
 * plaintext listener or the reverse. The client wraps them in retriable NetworkErrors, but retrying cannot
 * help (the same credentials fail the same way), so they must fail at once and say what to fix.
 */
export function securityFailure(error: unknown): SecurityFailure | undefined {
  const all = [...nested(error)];
  const saslApiId = (e: Error): string | undefined => {
    const apiId = (e as { apiId?: unknown }).apiId;
    return typeof apiId === 'string' && apiId in SASL_HINTS ? apiId : undefined;
  };
  const protocol = all.find((e) => saslApiId(e) !== undefined);
  const serverMessage = (protocol as { serverErrorMessage?: unknown } | undefined)?.serverErrorMessage;
  const server = typeof serverMessage === 'string' ? serverMessage : undefined;
  const authentication = all.find((e) => e instanceof AuthenticationError);
  if (protocol !== undefined || authentication !== undefined) {
    // The broker's own words are the most precise ("invalid credentials with SASL mechanism SCRAM-SHA-512").
    const detail = server ?? protocol?.message ?? authentication?.message;
    return {
      message: `SASL authentication failed${detail ? ` (${detail.replace(/\.$/, '')})` : ''}`,
      hint: SASL_HINTS[(protocol && saslApiId(protocol)) ?? 'SASL_AUTHENTICATION_FAILED'] ?? '',
    };
  }
  const certificate = all.find((e) => CERTIFICATE_CODES.has(String((e as NodeJS.ErrnoException).code)));
  if (certificate !== undefined) {
    return {
      message: `TLS authentication of the broker failed: its certificate is not trusted (${certificate.message})`,
      hint:
        'Pass the PEM of the CA that signed the brokers’ certificates with --tls-ca-file (tls.caFile), and ' +
        '--tls-server-name if the certificates name another host than --bootstrap.',
    };
  }
  const tls = all.find(
    (e) =>
      (e instanceof UserError && /\bTLS\b/.test(e.message)) ||
      String((e as NodeJS.ErrnoException).code).startsWith('ERR_SSL_'),
  );
  if (tls !== undefined) {
    if (/requires TLS/i.test(tls.message)) {
      return {
        message: 'the listener requires TLS, and the connection did not use it',
        hint: 'Pass --tls (and --tls-ca-file), or set tls in the cluster config.',
      };
    }
    // The client's own text for a plaintext listener is "TLS handshake failed. Please verify ...".
    const detail = tls instanceof UserError ? 'the listener does not appear to speak TLS' : tls.message;
    return {
      message: `TLS handshake failed (${detail.replace(/\.$/, '')})`,
      hint: 'Check that the port in --bootstrap is a TLS listener, and the client certificate if it requires one.',
    };
  }
  return undefined;
}

export function isRetriableKafkaError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // The adapter's own transient conditions (a partition without a leader in the metadata just read).
  if (error instanceof KbackupError) return error.code === 'KAFKA_RETRIABLE';
  if (securityFailure(error) !== undefined) return false;
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
  const security = securityFailure(error);
  if (security) {
    return new KbackupError('AUTHENTICATION', `${what}: ${security.message}`, {
      cause: error,
      hint: security.hint,
    });
  }
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
