import { readSnapshots, type ResticSnapshot } from '../core/restic-json.js';
import type { RestoreFacts } from './new-laptop-script.js';

/** What a new-computer line restores, decided on the desktop when the line is made. */
export interface RestorePlan {
  backup: ResticSnapshot;
  /** Where the old computer's home folder lies inside a folder restic restores into: `home/anna`, `C/Users/anna`. */
  from: string;
  /** The oldest restic 0.x that reads the repository: 14 for the compressed format (version 2), else 0. */
  needsMinor: number;
  /** The folder the files go to on the new computer, as the family gave it; null for its home folder. */
  target: string | null;
}

/** The newest of `restic snapshots --json`, or null when there is none. */
export const newestBackup = (json: unknown): ResticSnapshot | null => readSnapshots(json)[0] ?? null;

/** A path's parts, whatever system wrote it: `C:\Users\anna` and `/home/anna` alike; the drive's colon goes, as in restic's tree. */
const partsOf = (path: string): string[] =>
  path
    .replace(/^([A-Za-z]):/, '$1')
    .split(/[\\/]+/)
    .filter((part) => part !== '' && part !== '.');

/**
 * The old computer's home folder in a backup, as parts. The command the
 * set-up line installs always leaves out the home's cache (`$HOME/.cache`;
 * on Windows `%USERPROFILE%\AppData`), so its backups name the home exactly;
 * a backup made by hand falls back on its one folder, or the folder its
 * folders share.
 */
export function oldHome(backup: Pick<ResticSnapshot, 'paths' | 'excludes'>): string[] {
  const cache = backup.excludes.find((exclude) => /[\\/](\.cache|AppData)$/.test(exclude));
  if (cache) return partsOf(cache).slice(0, -1);
  const [first = [], ...others] = backup.paths.map(partsOf);
  let shared = first.length;
  for (const other of others) {
    shared = Math.min(shared, other.length);
    while (shared > 0 && first.slice(0, shared).join('/') !== other.slice(0, shared).join('/')) shared -= 1;
  }
  return first.slice(0, shared);
}

/** The oldest restic 0.x that reads a repository of this format (`restic cat config --json`'s version). */
export function neededMinor(config: unknown): number {
  const version = (config as { version?: unknown } | null)?.version;
  return typeof version === 'number' && version >= 2 ? 14 : 0;
}

/** What a new computer restores: the newest backup (null when there is none), read with `read` (restic's JSON answer to these arguments). */
export async function planRestore(read: (args: string[]) => Promise<unknown>, target: string | null): Promise<RestorePlan | null> {
  const backup = newestBackup(await read(['snapshots', '--no-lock']));
  if (!backup) return null;
  return { backup, from: oldHome(backup).join('/'), needsMinor: neededMinor(await read(['cat', 'config', '--no-lock'])), target };
}

/** What a new computer's script carries: the plan made with the line, and the kept password read when it is fetched. */
export const restoreFacts = (plan: RestorePlan, password: string): RestoreFacts => ({
  password,
  snapshotId: plan.backup.id,
  backedUp: new Date(plan.backup.time).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }),
  from: plan.from,
  needsMinor: plan.needsMinor,
  target: plan.target,
});
