import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished, type Readable } from 'node:stream';
import { httpErrors } from './errors.js';
import type { Syncer } from './fsync.js';
import { startBodyJob, type BodyJob } from './upload-worker.js';

const TEMP_NAME = /^\.rts-tmp-[0-9a-f]{16}$/;

/** Temp files are hidden and never a valid object id, so listings skip them. */
export const isTempName = (name: string): boolean => TEMP_NAME.test(name);

/** A temp file's path in `folder`: hidden, never an object id, removed at the next start if left behind. */
export const tempPathIn = (folder: string): string => join(folder, `.rts-tmp-${randomBytes(8).toString('hex')}`);

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
 * Bytes gathered before they are handed to a worker, and batches in flight
 * per body before it is paused. Several batches in flight keep a fast disk
 * busy while the next is received, and the bound keeps a body's memory to
 * about five batches. A body smaller than one batch never leaves the main thread.
 */
const WRITE_BATCH = 1 << 20;
const BATCHES_IN_FLIGHT = 4;

/** One gathered write on the main thread, without copying the chunks together; short writes are continued. */
async function writeFully(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  for (let pending = buffers, at = 0; pending.length > 0; ) {
    let written = (await handle.writev(pending, at)).bytesWritten;
    at += written;
    while (pending.length > 0 && written >= (pending[0] as Buffer).length) written -= (pending.shift() as Buffer).length;
    if (written > 0) pending[0] = (pending[0] as Buffer).subarray(written);
  }
}

/**
 * Hashes and counts a body on its way to `handle` (or nowhere). Large bodies
 * go to a worker in batches (see upload-worker.ts), a few in flight while the
 * next is received; the body is paused once more are in flight than
 * `BATCHES_IN_FLIGHT`, so a slow disk slows the client down (TCP
 * backpressure) instead of filling memory.
 * A small body is hashed and written at once.
 *
 * The body is read with `data` events, not an async iterator: one promise
 * per 64 KiB chunk was a measurable part of the main thread's work during
 * uploads. It is read without being owned: when writing fails (disk full),
 * the request must stay open so that the 507 can still be sent, whereas a
 * pipeline would destroy it and the client would see a reset connection.
 */
async function drain(body: Readable, handle: FileHandle | undefined, take?: (bytes: number) => void): Promise<WriteResult> {
  let bytes = 0;
  let batch: Buffer[] = [];
  let batched = 0;
  let job: BodyJob | undefined;
  /** Every batch sent, kept until the end: a batch that fails after the body ended still fails the upload. */
  const sending: Promise<void>[] = [];
  let inFlight = 0;
  let reading = true;
  let stopReading: (error: unknown) => void = () => undefined;
  const send = () => {
    job ??= startBodyJob(handle?.fd);
    const sent = job.send(batch, bytes - batched);
    inFlight++;
    sending.push(sent);
    sent.then(() => {
      inFlight--;
      if (reading && inFlight <= BATCHES_IN_FLIGHT && body.isPaused()) body.resume();
    }, stopReading);
    batch = [];
    batched = 0;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      stopReading = (error: unknown) => {
        if (!reading) return;
        reading = false;
        body.off('data', onData);
        body.pause();
        stopWatching();
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        try {
          take?.(chunk.length);
        } catch (error) {
          stopReading(error);
          return;
        }
        bytes += chunk.length;
        batch.push(chunk);
        batched += chunk.length;
        if (batched < WRITE_BATCH) return;
        send();
        if (inFlight > BATCHES_IN_FLIGHT) body.pause();
      };
      const stopWatching = finished(body, (error) => {
        if (error) return stopReading(error);
        reading = false;
        body.off('data', onData);
        stopWatching();
        resolve();
      });
      body.on('data', onData);
    });
    if (!job) {
      const hash = createHash('sha256');
      for (const chunk of batch) hash.update(chunk);
      if (handle) await writeFully(handle, batch);
      return { bytes, sha256: hash.digest('hex'), replacedBytes: 0 };
    }
    if (batched > 0) send();
    await Promise.all(sending);
    return { bytes, sha256: await job.finish(), replacedBytes: 0 };
  } catch (error) {
    // Never leave a write running on a handle the caller is about to close.
    await Promise.allSettled(sending);
    job?.abandon();
    throw error;
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

/** The SHA-256 of a file's contents, hashed off the main thread when it is large. */
export async function hashFile(path: string): Promise<string> {
  return (await hashBody(createReadStream(path))).sha256;
}
