import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpError } from './errors.js';

export interface QuotaLimits {
  /** rest-server's --max-size: all files of the data folder together. */
  maxSize?: number;
  /** Per user: the bytes under the folder of the user's name (`/<user>/...`). */
  perUser: ReadonlyMap<string, number>;
}

const folderOf = (repo: readonly string[]): string => repo[0] ?? '';

/** Adds up the sizes of all files under a folder: the total, and per top-level folder. */
async function measure(root: string): Promise<{ total: number; perFolder: Map<string, number> }> {
  const perFolder = new Map<string, number>();
  let total = 0;
  const walk = async (folder: string, top: string | undefined): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const files = entries.filter((entry) => entry.isFile()).map((entry) => join(folder, entry.name));
    const sizes = await Promise.all(files.map((file) => lstat(file).then((info) => info.size, () => 0)));
    const bytes = sizes.reduce((a, b) => a + b, 0);
    total += bytes;
    if (top !== undefined) perFolder.set(top, (perFolder.get(top) ?? 0) + bytes);
    for (const entry of entries) if (entry.isDirectory()) await walk(join(folder, entry.name), top ?? entry.name);
  };
  await walk(root, undefined);
  return { total, perFolder };
}

/**
 * Counts the bytes of files in the data folder, measured at start so the
 * figure is the same before and after a restart, and kept up to date as
 * uploads take space and deletions free it. An upload takes its bytes as
 * they arrive (a declared length is checked first), so every path past a
 * limit is a 507: declared, chunked, or a body longer than announced.
 */
export class Quota {
  /** Uploads running now: their bytes are in the counts but not (yet) on the disk. */
  readonly running = new Set<Reservation>();

  private constructor(
    private readonly root: string,
    private readonly limits: QuotaLimits,
    private total: number,
    private perFolder: Map<string, number>,
  ) {}

  static async open(root: string, limits: QuotaLimits): Promise<Quota> {
    const { total, perFolder } = await measure(root);
    return new Quota(root, limits, total, perFolder);
  }

  /**
   * Counts the disk again (the USB disk came back: what was counted while it
   * was away is not it). Running uploads keep their share, so that giving it
   * back later leaves the count exact.
   */
  async remeasure(): Promise<void> {
    const { perFolder, total: measured } = await measure(this.root);
    let total = measured;
    for (const reservation of this.running) {
      total += reservation.share.bytes;
      perFolder.set(reservation.share.folder, (perFolder.get(reservation.share.folder) ?? 0) + reservation.share.bytes);
    }
    this.total = total;
    this.perFolder = perFolder;
  }

  usage(): { total: number; perFolder: ReadonlyMap<string, number> } {
    return { total: this.total, perFolder: new Map(this.perFolder) };
  }

  /** Throws 507 unless `bytes` more fit for this repository. */
  check(repo: readonly string[], bytes: number): void {
    const folder = folderOf(repo);
    const userLimit = this.limits.perUser.get(folder);
    if (userLimit !== undefined && (this.perFolder.get(folder) ?? 0) + bytes > userLimit) {
      throw new HttpError(507, `insufficient storage: the quota of ${folder} (${userLimit} bytes) is used up`);
    }
    if (this.limits.maxSize !== undefined && this.total + bytes > this.limits.maxSize) {
      throw new HttpError(507, `insufficient storage: the server's size limit (${this.limits.maxSize} bytes) is reached`);
    }
  }

  /**
   * A running upload's share. `credit` is the size of the file it will
   * replace: a retried upload of an object that exists needs no new room.
   */
  reserve(repo: readonly string[], credit = 0): Reservation {
    const reservation = new Reservation(this, repo, credit);
    this.running.add(reservation);
    return reservation;
  }

  /** Space given back by a deletion. */
  free(repo: readonly string[], bytes: number): void {
    this.add(repo, -bytes);
  }

  add(repo: readonly string[], bytes: number): void {
    const folder = folderOf(repo);
    this.total += bytes;
    this.perFolder.set(folder, (this.perFolder.get(folder) ?? 0) + bytes);
  }
}

export class Reservation {
  private received = 0;
  private taken = 0;

  constructor(
    private readonly quota: Quota,
    private readonly repo: readonly string[],
    private readonly credit: number,
  ) {}

  get share(): { folder: string; bytes: number } {
    return { folder: folderOf(this.repo), bytes: this.taken };
  }

  /** Counts bytes as they arrive; throws 507 when those beyond the credit do not fit. */
  take(bytes: number): void {
    this.received += bytes;
    const more = Math.max(0, this.received - this.credit) - this.taken;
    if (more <= 0) return;
    this.quota.check(this.repo, more);
    this.quota.add(this.repo, more);
    this.taken += more;
  }

  /** The write succeeded and replaced a file of `replacedBytes`: the count becomes exact. */
  settle(replacedBytes: number): void {
    this.quota.add(this.repo, this.received - replacedBytes - this.taken);
    this.taken = 0;
    this.quota.running.delete(this);
  }

  /** The write failed: exactly what was taken is given back. */
  release(): void {
    this.quota.add(this.repo, -this.taken);
    this.taken = 0;
    this.quota.running.delete(this);
  }
}

/**
 * Runs a write under the quota (if any): a declared length is checked first,
 * bytes are taken as they arrive, all of them are given back on failure, and
 * the file the write replaced is accounted for.
 */
export async function underQuota<T extends { replacedBytes: number }>(
  quota: Quota | undefined,
  repo: readonly string[],
  sizes: { declared: number; existing: number },
  write: (take?: (bytes: number) => void) => Promise<T>,
): Promise<T> {
  if (!quota) return write();
  if (sizes.declared > sizes.existing) quota.check(repo, sizes.declared - sizes.existing);
  const reservation = quota.reserve(repo, sizes.existing);
  try {
    const result = await write((bytes) => reservation.take(bytes));
    reservation.settle(result.replacedBytes);
    return result;
  } catch (error) {
    reservation.release();
    throw error;
  }
}
