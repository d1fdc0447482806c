import { snapshotSources } from '../../core/offsets/snapshot-format.js';
import { backupSources, type ResetTarget } from '../../core/offsets/target.js';
import { Repository } from '../../storage/repository.js';
import { readSnapshotFile } from './snapshot.js';

/** Loads the offsets of a snapshot file as a reset target (validated: a bad file names the bad field). */
export async function loadSnapshotTarget(path: string): Promise<ResetTarget> {
  const snapshot = await readSnapshotFile(path);
  return { kind: 'snapshot', path, clusterId: snapshot.cluster.clusterId, groups: snapshotSources(snapshot) };
}

/**
 * Loads the committed offsets a backup captured at the end of its cut as a reset target. `resolveId` turns
 * "latest" (or an id) into a backup id of the repository.
 */
export async function loadBackupTarget(
  repoDir: string,
  idText: string,
  resolveId: (repo: Repository, text: string) => Promise<string>,
): Promise<ResetTarget> {
  const repo = await Repository.open(repoDir);
  const manifest = await repo.readManifest(await resolveId(repo, idText));
  return {
    kind: 'backup',
    backupId: manifest.backupId,
    clusterId: manifest.source.clusterId,
    groups: backupSources(manifest),
  };
}
