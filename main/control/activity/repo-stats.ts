import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isObjectId } from '../../../server/repo-path.js';
import { bytesUnder } from '../core/files.js';

export interface RepoStats {
  /** False until `restic init` made the repository. */
  exists: boolean;
  sizeBytes: number;
  snapshots: number;
  /** The newest snapshot file's time: restic writes one at the end of each backup. No restic password is needed. */
  lastBackupAt: Date | null;
  locks: number;
}

async function entries(folder: string) {
  try {
    return await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Looks at a repository folder on the disk: its size, snapshots, last backup and locks. */
export async function readRepoStats(folder: string): Promise<RepoStats> {
  const config = await stat(join(folder, 'config')).catch(() => undefined);
  if (!config) return { exists: false, sizeBytes: 0, snapshots: 0, lastBackupAt: null, locks: 0 };
  let snapshots = 0;
  let newest = 0;
  for (const entry of (await entries(join(folder, 'snapshots'))) ?? []) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    snapshots++;
    const info = await stat(join(folder, 'snapshots', entry.name)).catch(() => undefined);
    if (info) newest = Math.max(newest, info.mtimeMs);
  }
  const locks = ((await entries(join(folder, 'locks'))) ?? []).filter((entry) => entry.isFile() && isObjectId(entry.name)).length;
  return { exists: true, sizeBytes: await bytesUnder(folder), snapshots, lastBackupAt: newest > 0 ? new Date(newest) : null, locks };
}
