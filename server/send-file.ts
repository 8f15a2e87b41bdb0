import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { readAt } from './descriptors.js';
import { httpErrors } from './errors.js';
import type { RestContext } from './context.js';
import { parseRange } from './range.js';
import type { Storage } from './storage.js';

/**
 * Read buffer for downloads. 256 KiB rather than 1 MiB: the bytes read are
 * still in the processor's cache when TLS encrypts them or the socket copies
 * them, so the reads cost half the CPU (0.13 s against 0.28 s of the thread
 * pool's time per 0.5 GB over TLS, 4 downloads at once) and were as fast.
 */
const READ_CHUNK = 1 << 18;
/**
 * Buffers per download: one is read into while the socket sends the other.
 * More read-ahead cost more CPU per GB (0.58 s against 0.52 s with four,
 * 4 downloads at once on this machine) and was no faster: the kernel's own
 * read-ahead already keeps a sequential read going.
 */
const BUFFERS_PER_DOWNLOAD = 2;
/** Buffers kept for the next downloads: four at full speed need eight. */
const BUFFERS_KEPT = 8;

/**
 * Download buffers are reused rather than allocated per read: a fresh 1 MiB
 * buffer per read made the garbage collector run a full collection every few
 * tens of megabytes sent.
 */
const freeBuffers: Buffer[] = [];

/** Whether the socket took the chunk (true) or the client went away (false). */
const written = (res: ServerResponse, chunk: Buffer): Promise<boolean> =>
  new Promise((resolve) => {
    if (res.destroyed) return resolve(false);
    const gone = () => resolve(false);
    res.once('close', gone);
    res.write(chunk, (error) => {
      res.off('close', gone);
      resolve(!error);
    });
  });

/**
 * Sends bytes `start` to `end` of an open file, reading into a few reused
 * buffers while the socket sends the ones before; a client that goes away
 * ends it. The file is closed in every case.
 */
async function streamFile(res: ServerResponse, handle: FileHandle, start: number, end: number): Promise<void> {
  const buffers = Array.from({ length: BUFFERS_PER_DOWNLOAD }, () => freeBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK));
  const sending: Promise<boolean>[] = [];
  let clean = false;
  try {
    for (let position = start, turn = 0; position <= end; turn++) {
      const slot = turn % BUFFERS_PER_DOWNLOAD;
      if (sending[slot] && !(await sending[slot])) return;
      const buffer = buffers[slot] as Buffer;
      const bytesRead = await readAt(handle.fd, buffer, Math.min(READ_CHUNK, end - position + 1), position);
      if (bytesRead === 0) throw new Error('the file ended before its length: it changed while being sent');
      sending[slot] = written(res, buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    if ((await Promise.all(sending)).every(Boolean)) {
      res.end();
      clean = true;
    }
  } finally {
    if (!clean) res.destroy();
    // Buffers go back to the pool only once the socket is done with them (or gone).
    await Promise.all(sending);
    for (const buffer of buffers) if (freeBuffers.length < BUFFERS_KEPT) freeBuffers.push(buffer);
    await handle.close();
  }
}

/**
 * Answers HEAD with the size in `Content-Length` (restic reads it from
 * there) and GET with the file, honouring one `Range`. The length is always
 * set, so the body is never chunked.
 */
export async function sendFile(ctx: RestContext, storage: Storage, repo: readonly string[], path: string): Promise<void> {
  if (ctx.method === 'HEAD') {
    const size = await storage.size(repo, path);
    ctx.status = 200;
    ctx.length = size;
    return;
  }
  const { handle, size } = await storage.openForRead(repo, path);
  const range = parseRange(ctx.get('Range') || undefined, size);
  if (range.kind === 'unsatisfiable') {
    await handle.close();
    ctx.set('Content-Range', `bytes */${size}`);
    throw httpErrors.rangeNotSatisfiable();
  }
  const { start, end } = range.kind === 'partial' ? range.range : { start: 0, end: size - 1 };
  ctx.status = range.kind === 'partial' ? 206 : 200;
  ctx.set('Accept-Ranges', 'bytes');
  if (range.kind === 'partial') ctx.set('Content-Range', `bytes ${start}-${end}/${size}`);
  if (size === 0) {
    await handle.close();
    ctx.body = Buffer.alloc(0);
  } else {
    // Koa sends the headers; the body follows once every middleware is done (see `app.ts`).
    ctx.respond = false;
    ctx.state.send = () => streamFile(ctx.res, handle, start, end);
  }
  ctx.type = 'application/octet-stream';
  ctx.length = end - start + 1;
  ctx.state.bytes = ctx.length;
}
