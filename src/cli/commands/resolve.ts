import { KbackupError } from '../../core/errors.js';
import type { Repository } from '../../storage/repository.js';

/** `latest` means the newest complete backup; anything else is an id. */
export async function resolveBackupId(repo: Repository, text: string): Promise<string> {
  if (text !== 'latest') return text;
  const complete = (await repo.listBackups()).filter((b) => b.status === 'complete');
  const last = complete.at(-1);
  if (!last) throw new KbackupError('BACKUP_NOT_FOUND', `no complete backup in ${repo.root}`);
  return last.id;
}
