import type { SnapshotEntry } from '../../contract.js';

/**
 * Folder listings read from restic, kept so that the next page of a big
 * folder is a slice, not another run of restic. Bounded by the number of
 * entries held in all (an entry is a few hundred bytes): the folders used
 * longest ago go first. The folder just read always stays, however big.
 * A snapshot never changes, so a listing never goes stale.
 */
export class FolderCache {
  private readonly folders = new Map<string, Promise<SnapshotEntry[]>>();
  private readonly sizes = new Map<string, number>();

  constructor(private readonly maxEntries: number) {}

  /** The listing under `key`, read by `read` only when it is not held (a read under way is shared). */
  get(key: string, read: () => Promise<SnapshotEntry[]>): Promise<SnapshotEntry[]> {
    const held = this.folders.get(key);
    if (held) {
      // Used now: to the end of the eviction order.
      this.folders.delete(key);
      this.folders.set(key, held);
      return held;
    }
    const reading = read().then(
      (entries) => {
        this.sizes.set(key, entries.length);
        this.evict(key);
        return entries;
      },
      (error: unknown) => {
        this.folders.delete(key);
        throw error;
      },
    );
    this.folders.set(key, reading);
    return reading;
  }

  /** Entries held now (listings still being read count as none). */
  get entries(): number {
    let total = 0;
    for (const size of this.sizes.values()) total += size;
    return total;
  }

  private evict(keep: string): void {
    for (const key of this.folders.keys()) {
      if (this.entries <= this.maxEntries) return;
      if (key === keep || !this.sizes.has(key)) continue;
      this.folders.delete(key);
      this.sizes.delete(key);
    }
  }
}
