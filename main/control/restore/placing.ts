import { lstat, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface Placed {
  files: number;
  bytes: number;
  /** Files that were already there and stayed as they were. */
  kept: number;
}

const missing = (path: string): Promise<boolean> =>
  lstat(path).then(
    () => false,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return true;
      throw error;
    },
  );

/** Files and bytes under a folder (or of one file), links not followed. */
export async function measure(path: string): Promise<{ files: number; bytes: number }> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return { files: 0, bytes: 0 };
  if (!info.isDirectory()) return { files: 1, bytes: info.isFile() ? info.size : 0 };
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(path).catch(() => [])) {
    const inside = await measure(join(path, entry));
    files += inside.files;
    bytes += inside.bytes;
  }
  return { files, bytes };
}

/**
 * Moves what restic restored into a folder of its own (`from`) to where the
 * user wants it (`to`), on the same disk, so each move is a rename. A file
 * already at `to` stays as it is unless `replace`; folders merge. What is
 * left of `from` is the caller's to remove.
 */
export async function place(from: string, to: string, replace: boolean): Promise<Placed> {
  const info = await lstat(from);
  if (await missing(to)) {
    const moved = await measure(from);
    await rename(from, to);
    return { ...moved, kept: 0 };
  }
  const there = await lstat(to);
  if (info.isDirectory() && there.isDirectory()) {
    const total: Placed = { files: 0, bytes: 0, kept: 0 };
    for (const entry of await readdir(from)) {
      const placed = await place(join(from, entry), join(to, entry), replace);
      total.files += placed.files;
      total.bytes += placed.bytes;
      total.kept += placed.kept;
    }
    return total;
  }
  if (!replace) return { files: 0, bytes: 0, kept: (await measure(from)).files };
  const moved = await measure(from);
  // A folder in the way of a file (or the other way round) goes as a whole: the user chose to replace.
  if (info.isDirectory() !== there.isDirectory()) await rm(to, { recursive: true, force: true });
  await rename(from, to);
  return { ...moved, kept: 0 };
}
