import { ExitCode } from './exit-codes.js';

/**
 * Typed error codes. Every failure a user can cause or meet has one, with the exit code the CLI returns and
 * whether retrying the same operation may succeed (canRetry), in the style of platformatic/kafka.
 */
export const ErrorCodes = {
  USAGE: { exit: ExitCode.Usage, canRetry: false },
  CONFIG: { exit: ExitCode.Config, canRetry: false },
  CONNECTION: { exit: ExitCode.Connection, canRetry: true },
  /** The cluster refused the credentials, or TLS failed (untrusted certificate): fix the configuration. */
  AUTHENTICATION: { exit: ExitCode.Config, canRetry: false },
  KAFKA: { exit: ExitCode.Failure, canRetry: false },
  KAFKA_RETRIABLE: { exit: ExitCode.Connection, canRetry: true },
  TOPIC_NOT_FOUND: { exit: ExitCode.Usage, canRetry: false },
  TARGET_TOPIC_MISMATCH: { exit: ExitCode.Usage, canRetry: false },
  REPO_NOT_FOUND: { exit: ExitCode.Usage, canRetry: false },
  BACKUP_NOT_FOUND: { exit: ExitCode.Usage, canRetry: false },
  BACKUP_INCOMPLETE: { exit: ExitCode.Usage, canRetry: false },
  SEGMENT_CORRUPT: { exit: ExitCode.Corrupt, canRetry: false },
  MANIFEST_INVALID: { exit: ExitCode.Corrupt, canRetry: false },
  VERIFY_FAILED: { exit: ExitCode.VerifyFailed, canRetry: false },
  DISK: { exit: ExitCode.Io, canRetry: true },
  PERMISSION: { exit: ExitCode.Io, canRetry: false },
  LOCKED: { exit: ExitCode.Locked, canRetry: true },
  INTERRUPTED: { exit: ExitCode.Interrupted, canRetry: true },
  INTERNAL: { exit: ExitCode.Failure, canRetry: false },
} as const satisfies Record<string, { exit: ExitCode; canRetry: boolean }>;

export type ErrorCode = keyof typeof ErrorCodes;

export class KbackupError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly canRetry: boolean;
  /** What the user should do about it; printed under the message. */
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown; details?: Record<string, unknown>; canRetry?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'KbackupError';
    this.code = code;
    this.exitCode = ErrorCodes[code].exit;
    this.canRetry = options.canRetry ?? ErrorCodes[code].canRetry;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export function isKbackupError(error: unknown): error is KbackupError {
  return error instanceof KbackupError;
}

/** A segment or block failed its checksum or framing: names the file and the offsets that cannot be trusted. */
export class SegmentCorruptError extends KbackupError {
  constructor(
    message: string,
    readonly path: string,
    readonly firstBadOffset: bigint | undefined,
    readonly lastBadOffset: bigint | undefined,
  ) {
    const range =
      firstBadOffset !== undefined && lastBadOffset !== undefined && firstBadOffset <= lastBadOffset
        ? ` (offsets ${firstBadOffset}..${lastBadOffset} cannot be trusted)`
        : '';
    super('SEGMENT_CORRUPT', `${message}${range}`, {
      hint: 'Run `kbackup verify` on the backup to list every damaged file; restore from another backup.',
      details: {
        path,
        firstBadOffset: firstBadOffset?.toString(),
        lastBadOffset: lastBadOffset?.toString(),
      },
    });
    this.name = 'SegmentCorruptError';
  }
}

const TOPIC = Symbol('kbackup.topic');

/** Remembers which topic a failure was about, for per-topic error metrics. The first tag wins. */
export function tagTopic(error: unknown, topic: string): void {
  if (typeof error === 'object' && error !== null && !(TOPIC in error)) {
    Object.defineProperty(error, TOPIC, { value: topic, enumerable: false });
  }
}

export function topicOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !(TOPIC in error)) return undefined;
  const value = (error as Record<symbol, unknown>)[TOPIC];
  return typeof value === 'string' ? value : undefined;
}
