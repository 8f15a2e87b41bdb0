import { httpErrors } from './errors.js';
import type { RestContext } from './context.js';
import { parseRange } from './range.js';
import type { Storage } from './storage.js';

/** Read buffer for downloads: large enough to keep a fast disk and link busy. */
const READ_CHUNK = 1 << 20;

/**
 * Answers HEAD with the size in `Content-Length` (restic reads it from
 * there) and GET with the file, honouring one `Range`. The length is always
 * set, so the body is never chunked.
 */
export async function sendFile(ctx: RestContext, storage: Storage, path: string): Promise<void> {
  if (ctx.method === 'HEAD') {
    const size = await storage.size(path);
    ctx.status = 200;
    ctx.length = size;
    return;
  }
  const { handle, size } = await storage.openForRead(path);
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
    ctx.body = handle.createReadStream({ start, end, highWaterMark: READ_CHUNK });
  }
  ctx.type = 'application/octet-stream';
  ctx.length = end - start + 1;
  ctx.state.bytes = ctx.length;
}
