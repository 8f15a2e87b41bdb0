import { createHash, randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { httpErrors } from './errors.js';
import type { Syncer } from './fsync.js';
import { hashWorker } from './hash-worker.js';

const TEMP_NAME = /^\.rts-tmp-[0-9a-f]{16}$/;

/** Temp files are hidden and never a valid object id, so listings skip them. */
export const isTempName = (name: string): boolean => TEMP_NAME.test(name);

const tempPathIn = (folder: string): string => join(folder, `.rts-tmp-${randomBytes(8).toString('hex')}`);

export interface WriteResult {
  bytes: number;
  sha256: string;
  /** Size of the file that was replaced under the final name (0 if none, or not asked: no `take`). */
  replacedBytes: number;
}

export interface AtomicWriteOptions {
  mode: number;
  syncer: Syncer;
  /** When set, the body must hash to this SHA-256 or nothing is kept (400). */
  expectSha256?: string;
  /** Called with each chunk's size before it is written; throwing stops the upload (quota). */
  take?: (bytes: number) => void;
  /** With `take`: runs the measuring of the replaced file and the rename with no delete of the same path in between. */
  exclusive?: <T>(task: () => Promise<T>) => Promise<T>;
}

/**
 * Bytes gathered before one write, and writes allowed at once per upload.
 * Several positioned writes in flight keep a fast disk busy (measured with
 * `npm run bench`: one 1 MiB write at a time reached about 0.7 of this), and
 * the bound keeps an upload's memory to about five slabs.
 */
const SLAB = 1 << 20;
const WRITES_IN_FLIGHT = 4;
/** A body that fits in one slab this small is hashed at once: a trip to the worker would cost more. */
const HASH_HERE_BELOW = 256 << 10;
/** Slabs kept for the next uploads: four uploads at full speed need about twenty. */
const SLABS_KEPT = 24;

/**
 * The slabs bodies are gathered in: shared with the hashing worker, and
 * reused, so that a large upload allocates almost nothing. Node's body chunks
 * are dropped as soon as they are copied, so they die young and cheap,
 * instead of being held in batches until written (which made the garbage
 * collector run full collections every few tens of megabytes).
 */
const freeSlabs: Buffer[] = [];
const takeSlab = (): Buffer => freeSlabs.pop() ?? Buffer.from(new SharedArrayBuffer(SLAB));
const giveSlab = (slab: Buffer): void => {
  if (freeSlabs.length < SLABS_KEPT) freeSlabs.push(slab);
};

/** One write of `length` bytes at `position`; short writes are continued. */
async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let at = 0; at < data.length; ) {
    const { bytesWritten } = await handle.write(data, at, data.length - at, position + at);
    at += bytesWritten;
  }
}

/**
 * Hashes and counts a body on its way to `handle` (or nowhere). Chunks are
 * copied into a slab; a full slab is written (positioned, a few in flight)
 * and hashed on the worker at the same time, while the next one fills. The
 * body is not read further while the writes are all busy, so a slow disk
 * slows the client down (TCP backpressure) instead of filling memory.
 *
 * The body is read without being owned: when writing fails (disk full), the
 * request must stay open so that the 507 can still be sent, whereas a
 * pipeline would destroy it and the client would see a reset connection.
 */
async function drain(body: Readable, handle: FileHandle | undefined, take?: (bytes: number) => void): Promise<WriteResult> {
  const hash = hashWorker.begin();
  let bytes = 0;
  let shipped = 0;
  let slab = takeSlab();
  let filled = 0;
  const inFlight: Promise<void>[] = [];
  const ship = async () => {
    if (filled === 0) return;
    const full = slab;
    const length = filled;
    const done = Promise.all([handle && writeFully(handle, full.subarray(0, length), shipped), hash.update(full, length)]).then(() => giveSlab(full));
    // Awaited in turn or at the end; marked handled meanwhile.
    done.catch(() => undefined);
    inFlight.push(done);
    shipped += length;
    slab = takeSlab();
    filled = 0;
    if (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
  };
  try {
    for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      take?.(chunk.length);
      bytes += chunk.length;
      for (let at = 0; at < chunk.length; ) {
        if (filled === SLAB) await ship();
        const copied = chunk.copy(slab, filled, at);
        filled += copied;
        at += copied;
      }
    }
    if (shipped === 0 && filled < HASH_HERE_BELOW) {
      // A small body: hashed here, written in one go.
      hash.drop();
      const small = slab.subarray(0, filled);
      if (handle) await writeFully(handle, small, 0);
      const sha256 = createHash('sha256').update(small).digest('hex');
      giveSlab(slab);
      return { bytes, sha256, replacedBytes: 0 };
    }
    await ship();
    giveSlab(slab);
    await Promise.all(inFlight);
    return { bytes, sha256: await hash.digest(), replacedBytes: 0 };
  } catch (error) {
    hash.drop();
    throw error;
  } finally {
    // Never leave a write running on a handle the caller is about to close.
    await Promise.allSettled(inFlight);
  }
}

/**
 * Nothing acknowledged is ever lost, nothing half-written is ever visible:
 * the body streams into a temp file beside the target, which is fsynced,
 * checked, renamed over the final name, and the folder fsynced. On any
 * failure the temp file is removed and the final name is untouched.
 */
export async function writeAtomically(finalPath: string, body: Readable, options: AtomicWriteOptions): Promise<WriteResult> {
  const folder = dirname(finalPath);
  const temp = tempPathIn(folder);
  const handle = await open(temp, 'wx', options.mode);
  let closed = false;
  let result: WriteResult;
  try {
    // The umask would clear the group's bits (--group-accessible-repos).
    if (options.mode & 0o070) await handle.chmod(options.mode);
    result = await drain(body, handle, options.take);
    if (options.expectSha256 !== undefined && result.sha256 !== options.expectSha256) {
      throw httpErrors.badRequest(`body does not match its name ${basename(finalPath)} (SHA-256 differs)`);
    }
    await options.syncer.syncFile(handle);
    closed = true;
    await handle.close();
    // Only a quota needs to know what the rename replaces: no stat, and no lock against a delete, otherwise.
    if (options.take) {
      const replace = async () => {
        result.replacedBytes = await stat(finalPath).then(
          (info) => info.size,
          () => 0,
        );
        await rename(temp, finalPath);
      };
      await (options.exclusive ? options.exclusive(replace) : replace());
    } else {
      await rename(temp, finalPath);
    }
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await options.syncer.syncFolder(folder);
  return result;
}

/** Reads a body to its end, only hashing it (an object that is kept as it is). */
export function hashBody(body: Readable): Promise<WriteResult> {
  return drain(body, undefined);
}
