import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { constants } from 'node:fs';
import { lstat, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeAtomically } from './atomic-write.js';
import { DiskMissingError } from './errors.js';
import type { Syncer } from './fsync.js';
import { isLinkOpenError, linkSentence, NO_FOLLOW } from './links.js';

/** The file that names the disk; it lives in the data folder's root. */
export const MARKER_NAME = '.restic-tray-server-disk';

export type DiskState = { ok: true; diskId: string } | { ok: false; diskId: string; reason: string };

/** How long a successful check is trusted before the disk is looked at again. */
const CHECK_CACHE_MS = 1000;

interface Identity {
  dev: number;
  ino: number;
}

async function readMarkerId(markerPath: string): Promise<string | undefined> {
  let text: string;
  try {
    // A marker that is a link could name any disk: it is not read.
    text = await readFile(markerPath, { encoding: 'utf8', flag: constants.O_RDONLY | NO_FOLLOW });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (isLinkOpenError(error)) throw new Error(linkSentence(markerPath));
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  const id = (parsed as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id === '') throw new Error(`marker file ${markerPath} has no disk id`);
  return id;
}

/** The id of the disk a folder holds; undefined when it has no marker (or cannot be read: e.g. the disk is away). */
export async function readDiskId(root: string): Promise<string | undefined> {
  try {
    return await readMarkerId(join(root, MARKER_NAME));
  } catch {
    return undefined;
  }
}

async function writeMarker(root: string, diskId: string, syncer: Syncer): Promise<void> {
  const content = `${JSON.stringify({ id: diskId, created: new Date().toISOString() })}\n`;
  await writeAtomically(join(root, MARKER_NAME), Readable.from([Buffer.from(content)]), { mode: 0o600, syncer });
}

/**
 * Knows which disk the data folder lives on: a marker file with a random id,
 * plus the device and inode it was found on. Before every write the server
 * asks `check()`; if the USB disk was unplugged (the marker is gone: the bare
 * mount point is left) or another disk sits there, writes are refused, so
 * nothing lands on the system disk. When the same disk comes back, possibly
 * under a new device number, it is accepted again.
 */
export class DiskGuard extends EventEmitter<{ change: [DiskState] }> {
  private identity: Identity | undefined;
  private current: DiskState;
  private checkedAt = 0;
  private probing: Promise<DiskState> | undefined;

  private constructor(
    readonly root: string,
    readonly diskId: string,
  ) {
    super();
    this.current = { ok: false, diskId, reason: 'not checked yet' };
  }

  /** Throws a message that says what to do unless `root` is an existing folder. */
  static async checkFolder(root: string): Promise<void> {
    let info;
    try {
      info = await stat(root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new Error(
        `the data folder ${root} does not exist. Create it (mkdir -p ${root}), or plug in the backup disk it lives on.`,
      );
    }
    if (!info.isDirectory()) throw new Error(`the data folder ${root} is not a folder`);
  }

  /**
   * Opens the guard on `root`. Without `expectedDiskId`, a folder with no
   * marker is adopted (a marker is written). With it, the folder must carry
   * that id, otherwise the guard starts in the "missing" state.
   */
  static async open(root: string, syncer: Syncer, expectedDiskId?: string): Promise<DiskGuard> {
    await DiskGuard.checkFolder(root);
    const markerPath = join(root, MARKER_NAME);
    let found: string | undefined;
    try {
      found = await readMarkerId(markerPath);
    } catch (error) {
      throw new Error(
        `the disk marker ${markerPath} is damaged (${(error as Error).message}). Delete it to adopt this folder again.`,
      );
    }
    let diskId = expectedDiskId ?? found;
    if (diskId === undefined) {
      diskId = randomUUID();
      await writeMarker(root, diskId, syncer);
    }
    const guard = new DiskGuard(root, diskId);
    guard.current = await guard.probe();
    guard.checkedAt = Date.now();
    return guard;
  }

  get state(): DiskState {
    return this.current;
  }

  /** Throws DiskMissingError unless the data folder is on the right disk. */
  async check(options: { fresh?: boolean } = {}): Promise<void> {
    const state = await this.refresh(options.fresh ?? false);
    if (!state.ok) throw new DiskMissingError(state.reason);
  }

  /** Looks at the disk (or trusts a check younger than a second) and reports changes. */
  async refresh(fresh = true): Promise<DiskState> {
    if (!fresh && this.current.ok && Date.now() - this.checkedAt < CHECK_CACHE_MS) return this.current;
    this.probing ??= this.probe().finally(() => {
      this.probing = undefined;
    });
    const next = await this.probing;
    this.checkedAt = Date.now();
    const changed = next.ok !== this.current.ok;
    this.current = next;
    if (changed) this.emit('change', next);
    return next;
  }

  private async probe(): Promise<DiskState> {
    const markerPath = join(this.root, MARKER_NAME);
    const missing = (reason: string): DiskState => ({ ok: false, diskId: this.diskId, reason });
    try {
      const info = await lstat(markerPath);
      if (info.isSymbolicLink()) return missing(`${linkSentence(markerPath)}: remove the link`);
      if (this.identity && info.dev === this.identity.dev && info.ino === this.identity.ino) {
        return { ok: true, diskId: this.diskId };
      }
      const found = await readMarkerId(markerPath);
      if (found === undefined) return missing(`${this.root} no longer holds the disk (marker file gone)`);
      if (found !== this.diskId) return missing(`${this.root} now holds a different disk`);
      this.identity = { dev: info.dev, ino: info.ino };
      return { ok: true, diskId: this.diskId };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        return missing(`${this.root} no longer holds the disk (unplugged? the marker file is gone)`);
      }
      return missing(`cannot read ${markerPath} (${code ?? (error as Error).message})`);
    }
  }
}
