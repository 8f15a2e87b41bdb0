import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { copyInOrder, listFiles, openCopySession, type CopyOutcome, type CopyProgress } from './offsite-copy.js';
import { describeFailure } from './offsite-words.js';
import { hashFile } from '../../../server/atomic-write.js';
import { createSyncer } from '../../../server/fsync.js';
import { isObjectId } from '../../../server/repo-path.js';
import { Storage } from '../../../server/storage.js';
import type { RcloneOptions } from './rclone.js';

/** The repositories a copy holds: every folder (or the copy's root) with a `config` file. */
const reposIn = (files: string[]): string[] =>
  files.filter((file) => file === 'config' || file.endsWith('/config')).map((file) => (file === 'config' ? '' : file.slice(0, -'/config'.length)));

/**
 * A new backup disk filled from the offsite copy, after the old one died:
 * every repository the copy holds, in the same order as a copy (config and
 * keys, data, indexes, snapshots), so the disk is a readable repository at
 * every moment and computers can back up meanwhile. Nothing on the disk is
 * overwritten, except a file of a stopped rebuild that does not hash to its
 * name. The caller checks the disk afterwards (the integrity check).
 */
export async function rebuildFromCopy(
  options: RcloneOptions & { leftoverFile?: string; remote: string; place?: string; root: string; onProgress?: (progress: CopyProgress) => void; onWarning: (message: string) => void },
): Promise<CopyOutcome & { repos?: string[] }> {
  const rclone = await openCopySession(options);
  let outcome: CopyOutcome;
  let repos: string[];
  try {
    const listing = await listFiles(rclone, options.remote, ['- .*', '- locks/**', '- */locks/**']);
    if (listing.stopped) return { ok: false, stopped: true, problem: 'Stopped before the end.', details: null };
    if (!listing.ok) return { ok: false, stopped: false, ...describeFailure(listing.errors, null, options.place) };
    repos = reposIn(listing.files);
    if (repos.length === 0) return { ok: false, stopped: false, problem: 'The offsite copy holds no repository: check that the card names the right place (Change…).', details: null };
    outcome = await copyInOrder(rclone, { ...options, from: options.remote, to: options.root, files: listing.files, repos, mend: (failed) => removeCutOff(options.root, failed) });
  } finally {
    await rclone.close();
  }
  if (!outcome.ok) return outcome;
  // The folders restic's layout has even when empty (locks are never copied; most data/XX hold nothing), made as the server makes them.
  const storage = new Storage(options.root, createSyncer(options.onWarning), { dirMode: 0o700, fileMode: 0o600 });
  for (const repo of repos) await storage.createRepo(repo.split('/').filter(Boolean));
  return { ...outcome, repos };
}

/** Objects on the disk that do not hash to their names (left by a stopped rebuild) are removed, to be fetched again. */
async function removeCutOff(root: string, files: string[]): Promise<boolean> {
  let removed = false;
  for (const file of new Set(files)) {
    const name = file.slice(file.lastIndexOf('/') + 1);
    const local = join(root, ...file.split('/'));
    if (!isObjectId(name) || (await hashFile(local).catch(() => name)) === name) continue;
    await unlink(local);
    removed = true;
  }
  return removed;
}
