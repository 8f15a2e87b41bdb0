import { createHash, randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { httpErrors } from './errors.js';
import type { Syncer } from './fsync.js';

const TEMP_NAME = /^\.rts-tmp-[0-9a-f]{16}$/;

/** Temp files are hidden and never a valid object id, so listings skip them. */
export const isTempName = (name: string): boolean => TEMP_NAME.test(name);

const tempPathIn = (folder: string): string => join(folder, `.rts-tmp-${randomBytes(8).toString('hex')}`);

export interface WriteResult {
  bytes: number;
  sha256: string;
}

export interface AtomicWriteOptions {
  mode: number;
  syncer: Syncer;
  /** When set, the body must hash to this SHA-256 or nothing is kept (400). */
  expectSha256?: string;
}

/**
 * Reads a request body without owning it: when writing fails (disk full),
 * the request must stay open so that the 507 can still be sent; a pipeline
 * would otherwise destroy it, and the client would see a reset connection.
 */
const unowned = (body: Readable): AsyncIterable<Buffer> => body.iterator({ destroyOnReturn: false });

/** Feeds every chunk to a SHA-256 on its way through, counting bytes. */
function hashing(result: WriteResult) {
  const hash = createHash('sha256');
  return async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      result.bytes += chunk.length;
      yield chunk;
    }
    result.sha256 = hash.digest('hex');
  };
}

async function writeFully(handle: FileHandle, buffer: Buffer): Promise<void> {
  for (let offset = 0; offset < buffer.length; ) {
    offset += (await handle.write(buffer, offset, buffer.length - offset)).bytesWritten;
  }
}

/**
 * Writes into a file handle it does not own: unlike `handle.createWriteStream`,
 * whose handle can only be fsynced and closed by destroying the stream, the
 * handle stays usable after the stream ends. Chunks queued while the disk is
 * busy go down in one write.
 */
class FileSink extends Writable {
  constructor(private readonly handle: FileHandle) {
    super({ highWaterMark: 1 << 20 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    writeFully(this.handle, chunk).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    writeFully(this.handle, Buffer.concat(chunks.map((entry) => entry.chunk))).then(() => callback(), callback);
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
  const result: WriteResult = { bytes: 0, sha256: '' };
  let closed = false;
  try {
    await pipeline(unowned(body), hashing(result), new FileSink(handle));
    if (options.expectSha256 !== undefined && result.sha256 !== options.expectSha256) {
      throw httpErrors.badRequest(`body does not match its name ${basename(finalPath)} (SHA-256 differs)`);
    }
    await options.syncer.syncFile(handle);
    closed = true;
    await handle.close();
    await rename(temp, finalPath);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await options.syncer.syncFolder(folder);
  return result;
}

/** Reads a body to its end, only hashing it (an object that is kept as it is). */
export async function hashBody(body: Readable): Promise<WriteResult> {
  const result: WriteResult = { bytes: 0, sha256: '' };
  await pipeline(unowned(body), hashing(result), async function (source: AsyncIterable<Buffer>) {
    for await (const _ of source);
  });
  return result;
}
