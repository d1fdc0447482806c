import { KbackupError } from '../errors.js';

/**
 * Turns a Node filesystem error into a KbackupError whose message names the path and whose hint says
 * what to do. KbackupErrors pass through unchanged so that callers can wrap whole sequences.
 */
export function mapFsError(error: unknown, path: string, action: string): KbackupError {
  if (error instanceof KbackupError) return error;
  const code = errnoCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const options = { cause: error, details: { path, errno: code } };
  switch (code) {
    case 'ENOSPC':
      return new KbackupError('DISK', `No space left on device while ${action} ${path}`, {
        ...options,
        hint: 'Free space on that filesystem (or point the repository at a larger one) and run the command again.',
      });
    case 'EDQUOT':
      return new KbackupError('DISK', `Disk quota exceeded while ${action} ${path}`, {
        ...options,
        hint: 'Raise the quota or free space in the repository, then run the command again.',
      });
    case 'EACCES':
    case 'EPERM':
      return new KbackupError('PERMISSION', `Permission denied while ${action} ${path}`, {
        ...options,
        hint: 'Check that the user running kbackup may read and write the repository directory.',
      });
    case 'EROFS':
      return new KbackupError('PERMISSION', `Read-only file system while ${action} ${path}`, {
        ...options,
        hint: 'Mount the repository read-write or choose a writable repository location.',
      });
    case 'EIO':
      return new KbackupError('DISK', `I/O error while ${action} ${path}`, {
        ...options,
        hint: 'The storage device reported an error; check its health before retrying.',
      });
    default:
      return new KbackupError('DISK', `Failed ${action} ${path}: ${detail}`, options);
  }
}

export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
