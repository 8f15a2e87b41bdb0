import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestEvent } from '../../../server/events.js';
import { writeFileAtomically } from '../core/files.js';
import { COPY_STEPS, filterRules, listFiles } from './offsite-copy.js';
import { describeFailure } from './offsite-words.js';
import type { RcloneSession } from './rclone-session.js';

/** Per disk, each file deleted on it (relative to the backup folder) and when. */
interface JournalFile {
  version: 1;
  disks: Record<string, Record<string, string>>;
}

/** Per disk, the files it held at its last copy: with disks that take turns, a file one disk lacks may be the other's. */
interface ListingsFile {
  version: 1;
  disks: Record<string, string[]>;
}

async function readJson<T extends { version: 1; disks: object }>(file: string): Promise<T> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as T;
    if (parsed?.version === 1 && typeof parsed.disks === 'object' && parsed.disks !== null) return parsed;
  } catch {
    // A journal that cannot be read starts empty: the next copies note again what they find missing.
  }
  return { version: 1, disks: {} } as T;
}

/** The file of a restic object, relative to the backup folder. */
export function objectFile(repo: string, type: string, id: string): string {
  const inRepo = type === 'data' ? `data/${id.slice(0, 2)}/${id}` : `${type}/${id}`;
  return repo === '' ? inRepo : `${repo}/${inRepo}`;
}

/**
 * Deletions wait: a file deleted on the backup disk (a prune, or someone with
 * the maintenance login) stays on the copy for a grace period, so that
 * restic can still restore the deleted snapshots from the copy. The journal
 * keeps, per disk, when each file was deleted: the time of the server's
 * request when it saw it, otherwise when a copy first found it missing. It
 * lives in the config folder and survives restarts.
 */
export class DeletionJournal {
  private data: JournalFile | undefined;
  private listings: ListingsFile | undefined;

  constructor(
    private readonly file: string,
    /** Where each disk's files at its last copy are kept (written once per copy, not at each deletion). */
    private readonly listingsFile: string,
  ) {}

  private async load(): Promise<JournalFile> {
    this.data ??= await readJson<JournalFile>(this.file);
    return this.data;
  }

  /** Remembers the objects the server deleted on this disk, with the time of each request. */
  async noteDeleted(diskId: string, events: RequestEvent[]): Promise<void> {
    const deleted = events.filter((event) => event.method === 'DELETE' && event.status === 200 && event.repo !== null && event.type !== null && event.id !== null);
    if (deleted.length === 0) return;
    const journal = await this.load();
    const disk = (journal.disks[diskId] ??= {});
    for (const event of deleted) disk[objectFile(event.repo as string, event.type as string, event.id as string)] ??= event.time.toISOString();
    await writeFileAtomically(this.file, `${JSON.stringify(journal)}\n`);
  }

  /**
   * After a copy (`onDisk`: the disk's files it listed at its start):
   * files on the copy that the disk does not have are noted (if the server
   * did not see them go) unless they are another disk's (it had them at its
   * last copy, this disk did not), files that came back are forgotten, and those
   * deleted longer ago than `graceMs` are deleted from the copy. Returns
   * how many were deleted and how many still wait.
   */
  async reconcile(
    rclone: RcloneSession,
    options: { diskId: string; repos: string[]; remote: string; place?: string; now: number; graceMs: number; onDisk: Set<string> },
  ): Promise<{ deleted: number; waiting: number; problem: string | null }> {
    const journal = await this.load();
    const disk = (journal.disks[options.diskId] ??= {});
    const folders = COPY_STEPS.flatMap((step) => [...step.folders]);
    const listing = await listFiles(rclone, options.remote, filterRules(options.repos, folders));
    if (!listing.ok) return { deleted: 0, waiting: Object.keys(disk).length, problem: describeFailure(listing.errors, null, options.place).problem };
    const onCopy = new Set(listing.files);
    const { onDisk } = options;
    const seen = new Date(options.now).toISOString();
    this.listings ??= await readJson<ListingsFile>(this.listingsFile);
    const before = new Set(this.listings.disks[options.diskId] ?? []);
    const others = new Set(Object.entries(this.listings.disks).flatMap(([id, files]) => (id === options.diskId ? [] : files)));
    for (const file of onCopy) if (!onDisk.has(file) && (before.has(file) || !others.has(file))) disk[file] ??= seen;
    this.listings.disks[options.diskId] = [...onDisk];
    await writeFileAtomically(this.listingsFile, `${JSON.stringify(this.listings)}\n`);
    for (const file of Object.keys(disk)) if (onDisk.has(file) || !onCopy.has(file)) delete disk[file];
    const due = Object.entries(disk)
      .filter(([, at]) => options.now - Date.parse(at) >= options.graceMs)
      .map(([file]) => file);
    let problem: string | null = null;
    if (due.length > 0) {
      const folder = await mkdtemp(join(tmpdir(), 'rts-delete-'));
      try {
        await writeFile(join(folder, 'files'), `${due.join('\n')}\n`);
        const run = await rclone.job('operations/delete', { fs: options.remote, _filter: { FilesFromRaw: [join(folder, 'files')] } });
        if (run.ok) for (const file of due) delete disk[file];
        else problem = describeFailure(run.errors, null, options.place).problem;
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    }
    await writeFileAtomically(this.file, `${JSON.stringify(journal)}\n`);
    return { deleted: problem === null ? due.length : 0, waiting: Object.keys(disk).length, problem };
  }
}
