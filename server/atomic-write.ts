import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished, type Readable } from 'node:stream';
import { closeFd, fchmodFd, openFd } from './descriptors.js';
import { httpErrors } from './errors.js';
import type { Syncer } from './fsync.js';
import { asLinkRefusal, makeFolder, NO_FOLLOW, requireFolders } from './links.js';
import { saveOnWorker, startBodyJob, type BodyJob, type FolderPath } from './upload-worker.js';

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
  /** The folders the file goes into, each checked to be a real folder (not a link) just before the temp file is made. */
  folders?: FolderPath;
}

/**
 * Bytes gathered before they are handed to a worker, and batches in flight
 * per body before it is paused. Several batches in flight keep a fast disk
 * busy while the next is received, and the bound keeps a body's memory to
 * about five batches. A body smaller than one batch is saved whole, once it
 * has all arrived.
 */
const WRITE_BATCH = 1 << 20;
const BATCHES_IN_FLIGHT = 4;

type Drained = { bytes: number; chunks: Buffer[] } | { bytes: number; sha256: string; chunks?: undefined };

/**
 * Reads a body, counting it. A body smaller than one batch is returned
 * whole, as its chunks, untouched. A larger one is hashed and, when `openFile`
 * gives a file, written into it, on a worker in batches (see
 * upload-worker.ts), a few in flight while the next is received: the file
 * is opened only once a body turns out to be large, the body paused
 * meanwhile; the body is paused again once more batches are in flight than
 * `BATCHES_IN_FLIGHT`, so a slow disk slows the client down (TCP
 * backpressure) instead of filling memory.
 *
 * The body is read with `data` events, not an async iterator: one promise
 * per 64 KiB chunk was a measurable part of the main thread's work during
 * uploads. It is read without being owned: when writing fails (disk full),
 * the request must stay open so that the 507 can still be sent, whereas a
 * pipeline would destroy it and the client would see a reset connection.
 */
async function drain(body: Readable, openFile: () => Promise<number | undefined>, take?: (bytes: number) => void): Promise<Drained> {
  let bytes = 0;
  let batch: Buffer[] = [];
  let batched = 0;
  let job: BodyJob | undefined;
  /** Every batch sent, kept until the end: a batch that fails after the body ended still fails the upload. */
  const sending: Promise<void>[] = [];
  let inFlight = 0;
  let reading = true;
  let failed = false;
  let stopReading: (error: unknown) => void = () => undefined;
  const send = () => {
    const sent = (job as BodyJob).send(batch, bytes - batched);
    inFlight++;
    sending.push(sent);
    sent.then(() => {
      inFlight--;
      if (reading && inFlight <= BATCHES_IN_FLIGHT && body.isPaused()) body.resume();
    }, stopReading);
    batch = [];
    batched = 0;
  };
  let opening: Promise<void> | undefined;
  /** At the first full batch the file opens (the body waits), then the batch goes. */
  const begin = () => {
    body.pause();
    opening = openFile().then((fd) => {
      // The body failed meanwhile: nothing may be written into a file the caller is about to close.
      if (failed) return;
      job = startBodyJob(fd);
      send();
      body.resume();
    });
    sending.push(opening);
    opening.catch(stopReading);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      stopReading = (error: unknown) => {
        if (!reading) return;
        reading = false;
        failed = true;
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
        if (!job) {
          if (!opening) begin();
          return;
        }
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
    if (!opening) return { bytes, chunks: batch };
    await opening;
    if (batched > 0) send();
    await Promise.all(sending);
    return { bytes, sha256: await (job as BodyJob).finish() };
  } catch (error) {
    // Never leave a write running on a handle the caller is about to close.
    await Promise.allSettled(sending);
    job?.abandon();
    throw error;
  }
}

const sha256Of = (chunks: Buffer[]): string => {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
};

const mismatch = (finalPath: string) => httpErrors.badRequest(`body does not match its name ${basename(finalPath)} (SHA-256 differs)`);

/** A small body's save, in one message to a worker. */
async function saveSmall(finalPath: string, temp: string, bytes: number, chunks: Buffer[], options: AtomicWriteOptions): Promise<WriteResult> {
  const { syncer } = options;
  const save = () =>
    saveOnWorker(chunks, {
      temp,
      final: finalPath,
      mode: options.mode,
      expectSha256: options.expectSha256,
      measureReplaced: options.take !== undefined,
      folder: syncer.syncsFolders ? dirname(finalPath) : undefined,
      unsupported: syncer.unsupported,
      folders: options.folders,
    });
  // As for a large body (see writeAtomically): the lock only with a quota.
  const saved = await (options.take && options.exclusive ? options.exclusive(save) : save()).catch((error: unknown) => Promise.reject(asLinkRefusal(error)));
  for (const { code, what } of saved.notSynced) syncer.notSynced(code, what);
  if (!saved.kept) throw mismatch(finalPath);
  return { bytes, sha256: saved.sha256, replacedBytes: saved.replacedBytes };
}

/** What the upload worker does for a small body (see upload-worker.ts), here for a large one. */
async function checkFolders({ paths, makeLast, mode }: FolderPath): Promise<void> {
  await requireFolders(makeLast ? paths.slice(0, -1) : paths);
  if (makeLast && paths.length > 0) await makeFolder(paths[paths.length - 1] as string, mode);
}

/**
 * Nothing acknowledged is ever lost, nothing half-written is ever visible:
 * the body goes into a temp file beside the target, which is fsynced,
 * checked, renamed over the final name, and the folder fsynced. On any
 * failure the temp file is removed and the final name is untouched. A body
 * under one batch is saved in one go on a worker once it has all arrived;
 * a larger one streams into the temp file as it arrives.
 */
export async function writeAtomically(finalPath: string, body: Readable, options: AtomicWriteOptions): Promise<WriteResult> {
  const folder = dirname(finalPath);
  const temp = tempPathIn(folder);
  let fd: number | undefined;
  let closed = false;
  let result: WriteResult;
  try {
    const drained = await drain(
      body,
      async () => {
        if (options.folders) await checkFolders(options.folders);
        fd = await openFd(temp, 'wx', options.mode);
        // The umask would clear the group's bits (--group-accessible-repos).
        if (options.mode & 0o070) await fchmodFd(fd, options.mode);
        return fd;
      },
      options.take,
    );
    if (drained.chunks) return await saveSmall(finalPath, temp, drained.bytes, drained.chunks, options);
    const file = fd as number;
    result = { bytes: drained.bytes, sha256: drained.sha256, replacedBytes: 0 };
    if (options.expectSha256 !== undefined && result.sha256 !== options.expectSha256) throw mismatch(finalPath);
    await options.syncer.syncFile(file);
    closed = true;
    await closeFd(file);
    // Only a quota needs to know what the rename replaces: no stat, and no lock against a delete, otherwise.
    if (options.take) {
      const replace = async () => {
        result.replacedBytes = await lstat(finalPath).then(
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
    if (fd !== undefined) {
      if (!closed) await closeFd(fd).catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
    throw error;
  }
  await options.syncer.syncFolder(folder);
  return result;
}

/** Reads a body to its end, only hashing it (an object that is kept as it is). */
export async function hashBody(body: Readable): Promise<WriteResult> {
  const drained = await drain(body, async () => undefined);
  return { bytes: drained.bytes, sha256: drained.chunks ? sha256Of(drained.chunks) : drained.sha256, replacedBytes: 0 };
}

/** The SHA-256 of a file's contents, hashed off the main thread when it is large; a link is not followed. */
export async function hashFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | NO_FOLLOW);
  // The stream closes the handle when it ends or fails.
  return (await hashBody(handle.createReadStream())).sha256;
}
