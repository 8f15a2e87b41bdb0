import { constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeAtomically } from './atomic-write.js';
import type { Syncer } from './fsync.js';
import { isLinkOpenError, NO_FOLLOW } from './links.js';

/**
 * What the desktop app did to each repository of a data folder when it
 * looked after the backups itself (restic run on the disk: retention and
 * pruning, `restic check`, a repair after the integrity check). Kept in the
 * data folder, beside the integrity check's record, so that it travels with
 * a rotating disk and `/metrics` reads it whoever serves the folder.
 */
export const CARE_RECORD_NAME = '.restic-tray-server-care.json';

export interface RetentionRun {
  at: string;
  ok: boolean;
  /** Snapshots removed by `restic forget`. */
  removed: number;
  /** Bytes the repository's folder shrank by. */
  freedBytes: number;
  /** Why it did not work, in words; null when it worked. */
  problem: string | null;
}

export interface CheckRun {
  at: string;
  /** `ok`: restic found nothing wrong; `damaged`: it found errors; `failed`: it could not check (it is tried again later). */
  outcome: 'ok' | 'damaged' | 'failed';
  /** The part of the data read, as restic's --read-data-subset (`3/12`). */
  subset: string;
  problem: string | null;
}

export interface RepairRun {
  at: string;
  ok: boolean;
  /** The restic commands run, in order (`rebuild-index`, or `repair index` and `repair snapshots --forget`). */
  steps: string[];
  problem: string | null;
}

export interface RepoCare {
  retention: RetentionRun | null;
  check: CheckRun | null;
  repair: RepairRun | null;
}

export interface CareRecord {
  version: 1;
  repos: Record<string, RepoCare>;
}

export const emptyCare = (): RepoCare => ({ retention: null, check: null, repair: null });

/** The record, or an empty one when there is none or it cannot be read as one (it is only a record: it starts again). */
export async function readCareRecord(root: string): Promise<CareRecord> {
  const path = join(root, CARE_RECORD_NAME);
  try {
    const parsed = JSON.parse(await readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | NO_FOLLOW })) as CareRecord;
    if (parsed?.version === 1 && typeof parsed.repos === 'object' && parsed.repos !== null) return parsed;
  } catch (error) {
    if (isLinkOpenError(error)) throw new Error(`the care record ${path} is a symbolic link; it is not followed out of the data folder. Remove the link (the record starts again).`);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
  }
  return { version: 1, repos: {} };
}

export async function writeCareRecord(root: string, record: CareRecord, syncer: Syncer): Promise<void> {
  await writeAtomically(join(root, CARE_RECORD_NAME), Readable.from([Buffer.from(`${JSON.stringify(record)}\n`)]), { mode: 0o600, syncer });
}
