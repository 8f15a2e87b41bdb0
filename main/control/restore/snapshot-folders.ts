import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { SnapshotEntry, SnapshotFolder } from '../../contract.js';
import { UserError } from '../core/errors.js';
import type { ComputerRecord } from '../core/settings.js';
import { FolderCache } from './folder-cache.js';
import { parentOf, readNode, sortEntries } from './restic-listings.js';
import type { ResticAccess } from './restore.js';

/** One page of a folder: as many entries as a page shows smoothly. */
export const PAGE_SIZE = 500;
/** Folder listings held at most, in entries (a few hundred bytes each): tens of MB at worst. */
const CACHED_ENTRIES = 200_000;
/** Subfolders of a folder just shown whose listings are read ahead, in one run of restic, and their paths' length in all (Windows takes command lines of 32,767 characters at most). */
const READ_AHEAD_FOLDERS = 32;
const READ_AHEAD_CHARACTERS = 16_000;

/** Where a folder's listing is cached. */
const folderKey = (computer: ComputerRecord, snapshotId: string, path: string): string => `${computer.username}\0${snapshotId}\0${path}`;

/** The folders of the snapshots, page by page, from listings kept in memory and read ahead. */
export class SnapshotFolders {
  private readonly cache = new FolderCache(CACHED_ENTRIES);
  /** The read-ahead under way, if any: one at a time, the newest folder's. */
  private readingAhead: { cancel(): void } | null = null;

  constructor(private readonly restic: Pick<ResticAccess, 'stream'>) {}

  /** The page of a folder from `offset`; its first page starts the read-ahead of its subfolders. */
  async page(computer: ComputerRecord, snapshotId: string, folder: string, from: number): Promise<SnapshotFolder> {
    const path = folder === '/' ? '/' : folder.replace(/\/+$/, '');
    const entries = await this.cache.get(folderKey(computer, snapshotId, path), () => this.readFolder(computer, snapshotId, path));
    const offset = Math.min(from, entries.length);
    if (offset === 0) this.readAhead(computer, snapshotId, path, entries);
    return { snapshotId, path, entries: entries.slice(offset, offset + PAGE_SIZE), offset, total: entries.length };
  }

  stopReadingAhead(): void {
    this.readingAhead?.cancel();
  }

  /**
   * Reads the listings of a folder's first subfolders, in the background:
   * the next click is most likely one of them, and each run of restic
   * first spends about a second opening the repository (the key's scrypt,
   * the index), then restic 0.14 takes seconds more for a folder of
   * 100,000 files. One run of `restic ls` lists them all, at the lowest CPU
   * priority; a click on one of them meanwhile waits for that run rather
   * than starting another. At most what the cache holds beside the folder
   * shown is kept: past that the run is stopped and nothing is kept (a
   * click then reads its folder itself, as it does when the run fails). A
   * newer folder's read-ahead stops an older one's.
   */
  private readAhead(computer: ComputerRecord, snapshotId: string, path: string, shown: SnapshotEntry[]): void {
    const paths = new Map<string, string>();
    let characters = 0;
    for (const entry of shown) {
      if (entry.type !== 'dir') continue;
      characters += entry.path.length + 1;
      if (characters > READ_AHEAD_CHARACTERS || paths.size === READ_AHEAD_FOLDERS) break;
      paths.set(folderKey(computer, snapshotId, entry.path), entry.path);
    }
    const expected = this.cache.expect([...paths.keys()]);
    if (expected.keys.length === 0) return;
    const folders = expected.keys.map((key) => paths.get(key) as string);
    this.readingAhead?.cancel();
    let stopped = false;
    let stopRun: () => void = () => undefined;
    const ahead = {
      cancel: () => {
        stopped = true;
        stopRun();
      },
    };
    this.readingAhead = ahead;
    const budget = CACHED_ENTRIES - shown.length;
    const purpose = `Looking ahead into the folders of ${path} in the backups of ${computer.displayName}`;
    let listed: Map<string, SnapshotEntry[]> | null = null;
    const read = async (): Promise<boolean> => {
      const run = await this.restic.stream(computer.username, ['ls', '--no-lock', '--json', snapshotId, ...folders], purpose, true);
      stopRun = run.cancel;
      if (stopped) run.cancel();
      listed = await listingsOf(run, folders, budget);
      return (await run.done).ok && !stopped && listed !== null;
    };
    void read()
      .catch(() => false)
      .then((ok) => {
        if (this.readingAhead === ahead) this.readingAhead = null;
        const read = listed;
        expected.settle(ok && read ? new Map(folders.map((folder) => [folderKey(computer, snapshotId, folder), read.get(folder) ?? []])) : null);
      });
  }

  /** One folder's entries, read from `restic ls` line by line (a folder of 100,000 files never sits in memory as restic's text). */
  private async readFolder(computer: ComputerRecord, snapshotId: string, path: string): Promise<SnapshotEntry[]> {
    const run = await this.restic.stream(computer.username, ['ls', '--no-lock', '--json', snapshotId, path], `Reading ${path} in the backups of ${computer.displayName}`);
    const listed = await listingsOf(run, [path]);
    const outcome = await run.done;
    if (!outcome.ok) throw new UserError('restic-failed', `restic could not read ${path} in ${computer.displayName}’s backups: ${outcome.failure}.`);
    return listed?.get(path) ?? [];
  }
}

/**
 * Each of `folders`' entries, sorted, read from `restic ls` line by line (a
 * folder of 100,000 files never sits in memory as restic's text); null, and
 * the run stopped, once more than `most` entries came.
 */
async function listingsOf(run: { stdout: Readable; cancel(): void }, folders: string[], most = Infinity): Promise<Map<string, SnapshotEntry[]> | null> {
  const listings = new Map<string, SnapshotEntry[]>(folders.map((folder) => [folder, []]));
  let held = 0;
  for await (const line of createInterface({ input: run.stdout, crlfDelay: Infinity })) {
    const node = readNode(line);
    const listing = node && listings.get(parentOf(node.path));
    // ls prints each folder asked about too: it is not an entry of itself.
    if (!node || !listing || listings.has(node.path)) continue;
    listing.push(node);
    if (++held > most) {
      run.cancel();
      return null;
    }
  }
  for (const entries of listings.values()) sortEntries(entries);
  return listings;
}
