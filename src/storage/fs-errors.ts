import { KbackupError } from '../core/errors.js';

/** Maps filesystem errors to typed errors whose message names the path and what to do. */
export function toFsError(error: unknown, action: string, path: string): KbackupError {
  if (error instanceof KbackupError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new KbackupError('DISK', `no space left on the device while ${action} ${path}`, {
        cause: error,
        hint: 'Free space (or grow the volume) and run the same command again; completed segments are kept.',
      });
    case 'EACCES':
    case 'EPERM':
      return new KbackupError('PERMISSION', `permission denied while ${action} ${path}`, {
        cause: error,
        hint: 'Run kbackup as a user that can write there, or fix the directory permissions.',
      });
    case 'EROFS':
      return new KbackupError('PERMISSION', `read-only filesystem while ${action} ${path}`, { cause: error });
    case 'ENOENT':
      return new KbackupError('REPO_NOT_FOUND', `${path} does not exist (while ${action})`, { cause: error });
    default:
      return new KbackupError('DISK', `filesystem error (${code ?? 'unknown'}) while ${action} ${path}`, {
        cause: error,
      });
  }
}
