import { lstat, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { writeAtomically } from '../../../server/atomic-write.js';
import { createSyncer } from '../../../server/fsync.js';
import { describeIssues } from './schemas.js';

// The config folder sits on the system disk, where fsync works; a failure to
// sync there is a real error, not a quirk to tolerate quietly.
const syncer = createSyncer(() => undefined);

/** File system calls under way at once while a folder is measured: enough to overlap their round trips, few enough not to queue far ahead of an upload's fsync in the thread pool. */
const SIZE_CALLS_AT_ONCE = 16;

/**
 * The bytes of the files under a folder (a repository's size), links not
 * followed; 0 when the folder is not there. Folders and files are looked at
 * SIZE_CALLS_AT_ONCE at a time rather than one after the other: the 256
 * data folders of a repository add up in milliseconds, and a disk of
 * hundreds of thousands of packs does not flood the thread pool.
 */
export async function bytesUnder(folder: string): Promise<number> {
  let active = 0;
  const waiting: (() => void)[] = [];
  // A call takes a free place, or waits for one handed over by a call that ends (so none is taken twice meanwhile).
  const limited = async <T>(call: () => Promise<T>): Promise<T> => {
    if (active < SIZE_CALLS_AT_ONCE) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await call();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
  const under = async (path: string): Promise<number> => {
    let entries;
    try {
      entries = await limited(() => readdir(path, { withFileTypes: true }));
    } catch (error) {
      // The folder asked about is not there, or a folder inside went while it was read (restic pruning).
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    const sizes = await Promise.all(
      entries.map((entry) => {
        const inside = join(path, entry.name);
        if (entry.isDirectory()) return under(inside);
        // Gone since the folder was read (restic deleting a pack): nothing to count.
        return entry.isFile() ? limited(() => lstat(inside)).then((info) => info.size, () => 0) : 0;
      }),
    );
    return sizes.reduce((sum, size) => sum + size, 0);
  };
  return under(folder);
}

/** Writes a whole file so that a crash leaves either the old or the new content: temp, fsync, rename, folder fsync. */
export async function writeFileAtomically(path: string, content: string | Buffer, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeAtomically(path, Readable.from([Buffer.from(content)]), { mode, syncer });
}

/**
 * A file's writes, one at a time in the order asked. Once closed (the app
 * closing), it waits for the writes under way and drops later ones: a
 * room's late work never overwrites what another process wrote since.
 */
export class WriteQueue {
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  add(write: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.resolve();
    const next = this.writing.then(write);
    this.writing = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
  }
}

/** A JSON file read and checked: absent, its value, or damaged (then moved aside, never deleted). */
export type CheckedFile<T> = { state: 'missing' } | { state: 'read'; value: T } | { state: 'damaged'; what: string; aside: string };

/** Reads a JSON file checked by `schema`; a damaged one is moved aside as `<file>.damaged-<time>`, and what was wrong is said. */
export async function readCheckedFile<T>(path: string, schema: z.ZodType<T>, now = new Date()): Promise<CheckedFile<T>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw error;
  }
  let what: string;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return { state: 'read', value: parsed.data };
    what = describeIssues(parsed.error);
  } catch (error) {
    what = `not valid JSON (${(error as Error).message})`;
  }
  const aside = `${path}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
  await rename(path, aside);
  return { state: 'damaged', what, aside };
}
