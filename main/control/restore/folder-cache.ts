import type { SnapshotEntry } from '../../contract.js';

/** Listings some other reader has promised (a read-ahead): hand each over once read, or none. */
export interface Expected {
  /** The keys now promised: those not held or being read before. */
  keys: string[];
  /** Hands over the listings read (a key missing, or `null` for all: not read, and a `get` waiting for it reads it itself). */
  settle(listings: ReadonlyMap<string, SnapshotEntry[]> | null): void;
}

/**
 * Folder listings read from restic, kept so that the next page of a big
 * folder is a slice, not another run of restic. Bounded by the number of
 * entries held in all (an entry is a few hundred bytes): the folders used
 * longest ago go first. The folder just read always stays, however big.
 * A snapshot never changes, so a listing never goes stale.
 */
export class FolderCache {
  /** Each listing held or being read; one that resolves to null was not read after all (it is gone from here by then). */
  private readonly folders = new Map<string, Promise<SnapshotEntry[] | null>>();
  private readonly sizes = new Map<string, number>();

  constructor(private readonly maxEntries: number) {}

  /** The listing under `key`, read by `read` only when it is not held (a read under way is shared, a read-ahead awaited). */
  get(key: string, read: () => Promise<SnapshotEntry[]>): Promise<SnapshotEntry[]> {
    const held = this.folders.get(key);
    if (!held) return this.read(key, read);
    // Used now: to the end of the eviction order.
    this.folders.delete(key);
    this.folders.set(key, held);
    return held.then((entries) => entries ?? this.get(key, read));
  }

  /** Promises the listings under `keys` that are not held or being read: a `get` meanwhile waits for them. */
  expect(keys: string[]): Expected {
    const waiting = new Map<string, (entries: SnapshotEntry[] | null) => void>();
    for (const key of keys) {
      if (this.folders.has(key) || waiting.has(key)) continue;
      this.folders.set(key, new Promise((resolve) => waiting.set(key, resolve)));
    }
    return {
      keys: [...waiting.keys()],
      settle: (listings) => {
        for (const [key, resolve] of waiting) {
          const entries = listings?.get(key) ?? null;
          if (entries) this.sizes.set(key, entries.length);
          else this.folders.delete(key);
          resolve(entries);
        }
        this.evict(new Set(waiting.keys()));
      },
    };
  }

  /** Entries held now (listings still being read count as none). */
  get entries(): number {
    let total = 0;
    for (const size of this.sizes.values()) total += size;
    return total;
  }

  private read(key: string, read: () => Promise<SnapshotEntry[]>): Promise<SnapshotEntry[]> {
    const reading = read().then(
      (entries) => {
        this.sizes.set(key, entries.length);
        this.evict(new Set([key]));
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

  /** Drops the listings used longest ago until the entries held fit, never those in `keep`. */
  private evict(keep: ReadonlySet<string>): void {
    let held = this.entries;
    for (const key of this.folders.keys()) {
      if (held <= this.maxEntries) return;
      const size = this.sizes.get(key);
      if (keep.has(key) || size === undefined) continue;
      this.folders.delete(key);
      this.sizes.delete(key);
      held -= size;
    }
  }
}
