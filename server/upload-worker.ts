import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LINK_CODE } from './links.js';

/**
 * Hashing and writing of large bodies on worker threads. SHA-256 was about a
 * third of the main thread's cycles during large uploads, and every write a
 * round trip through libuv's pool and a promise (see docs/benchmarks.md,
 * "Uploads"). The main thread now only receives the body: each batch of
 * chunks is handed over without a copy (their memory is transferred, not
 * cloned), and the worker hashes it and writes it at its position with one
 * synchronous gathered write. Messages to one worker arrive in order, so one
 * body's batches are hashed in order; a body stays on the worker it started
 * on. A small body is saved whole in one message (`saveOnWorker`). Workers
 * start with the first body that needs one and keep the process alive only
 * while a reply is awaited.
 *
 * The chunks end their lives in the worker, whose heap is tiny: V8 would
 * collect them only once about 64 MB of them had piled up in each worker
 * (about 120 MB more memory), because the worker allocates almost nothing
 * of its own. So the worker asks for a young-generation collection after
 * every 4 MiB of batches (8 MiB held about 8 MB more at the peak, for no
 * CPU saved) and every 1 MiB of small bodies saved whole (their many small
 * buffers: 4 MiB held about 10 MB more);
 * on a heap this small it takes microseconds, and the main
 * thread no longer collects anything during uploads (0-1 full collections
 * per 512 MiB instead of 6-8). \`gc\` is exposed for this worker's use only:
 * the flag adds it to contexts made from now on, such as the one asked for
 * here, and to no existing one.
 */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { chmodSync, closeSync, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writevSync } = require('node:fs');
const collect = (() => {
  require('node:v8').setFlagsFromString('--expose-gc');
  return require('node:vm').runInNewContext('gc');
})();
const COLLECT_EVERY = 4 << 20;
const COLLECT_EVERY_SAVED = 1 << 20;
let collectionDue = 0;
const handled = (buffers, every) => {
  for (const buffer of buffers) collectionDue += buffer.byteLength / every;
  if (collectionDue >= 1 && typeof collect === 'function') {
    collectionDue = 0;
    collect({ type: 'minor' });
  }
};
const hashes = new Map();
const writeFully = (fd, views, position) => {
  for (let at = position; views.length > 0; ) {
    let written = writevSync(fd, views, at);
    at += written;
    while (views.length > 0 && written >= views[0].length) written -= views.shift().length;
    if (written > 0) views[0] = views[0].subarray(written);
  }
};
const sha256Of = (views) => {
  const hash = createHash('sha256');
  for (const view of views) hash.update(view);
  return hash.digest('hex');
};
// The folders on the way to the file, outermost first, each a real folder (not a link) at the moment of the save; the last one made when asked (see links.ts).
const requireFolders = ({ paths, makeLast, mode }) => {
  paths.forEach((path, index) => {
    if (makeLast && index === paths.length - 1) {
      try {
        mkdirSync(path, mode);
        if (mode & 0o070) chmodSync(path, mode);
      } catch (error) {
        if (error.code !== 'EEXIST') throw error;
      }
    }
    const info = lstatSync(path);
    if (info.isSymbolicLink()) throw Object.assign(new Error(path), { code: ${JSON.stringify(LINK_CODE)} });
    if (!info.isDirectory()) throw Object.assign(new Error(path + ' is not a folder'), { code: 'ENOTDIR' });
  });
};
const save = ({ temp, final, mode, buffers, expectSha256, measureReplaced, folder, unsupported, folders }) => {
  const notSynced = [];
  const sync = (fd, what) => {
    try {
      fsyncSync(fd);
    } catch (error) {
      if (!unsupported.includes(error.code)) throw error;
      notSynced.push({ code: error.code, what });
    }
  };
  if (folders !== undefined) requireFolders(folders);
  let fd = openSync(temp, 'wx', mode);
  let renamed = false;
  try {
    if (mode & 0o070) fchmodSync(fd, mode);
    const views = buffers.map((buffer) => new Uint8Array(buffer));
    const sha256 = sha256Of(views);
    if (expectSha256 !== undefined && sha256 !== expectSha256) {
      closeSync(fd);
      fd = undefined;
      unlinkSync(temp);
      return { sha256, kept: false, replacedBytes: 0, notSynced };
    }
    writeFully(fd, views, 0);
    sync(fd, 'a file');
    closeSync(fd);
    fd = undefined;
    let replacedBytes = 0;
    if (measureReplaced) {
      try {
        replacedBytes = lstatSync(final).size;
      } catch {}
    }
    renameSync(temp, final);
    renamed = true;
    if (folder !== undefined) {
      const folderFd = openSync(folder, 'r');
      try {
        sync(folderFd, 'a folder');
      } finally {
        closeSync(folderFd);
      }
    }
    return { sha256, kept: true, replacedBytes, notSynced };
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {}
    }
    if (!renamed) {
      try {
        unlinkSync(temp);
      } catch {}
    }
    throw error;
  }
};
parentPort.on('message', ({ id, kind, fd, position, buffers, ...rest }) => {
  try {
    if (kind === 'save') {
      parentPort.postMessage({ id, saved: save({ buffers, ...rest }) });
      handled(buffers, COLLECT_EVERY_SAVED);
    } else if (kind === 'batch') {
      let hash = hashes.get(id);
      if (!hash) hashes.set(id, (hash = createHash('sha256')));
      const views = buffers.map((buffer) => new Uint8Array(buffer));
      for (const view of views) hash.update(view);
      if (fd !== undefined) writeFully(fd, views, position);
      parentPort.postMessage({ id });
      handled(buffers, COLLECT_EVERY);
    } else if (kind === 'end') {
      const hash = hashes.get(id) ?? createHash('sha256');
      hashes.delete(id);
      parentPort.postMessage({ id, sha256: hash.digest('hex') });
    } else {
      hashes.delete(id);
    }
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;

/** A small body's whole save, in one message (see `saveOnWorker`). */
export interface SaveRequest {
  temp: string;
  final: string;
  mode: number;
  /** When set and the body hashes to something else, nothing is kept (`kept: false`). */
  expectSha256?: string;
  /** Whether to measure the file the rename replaces (for a quota). */
  measureReplaced: boolean;
  /** The folder to fsync after the rename; none where folders cannot be fsynced. */
  folder?: string;
  /** fsync error codes that mean "cannot fsync here": the save goes on, and they are reported. */
  unsupported: readonly string[];
  /** Folders that must be real folders, not links, checked here just before the temp file is made (see `FolderPath`). */
  folders?: FolderPath;
}

/** The folders between the data folder and a file, outermost first; with `makeLast`, the last is made (mode `mode`) when missing. */
export interface FolderPath {
  paths: string[];
  makeLast: boolean;
  mode: number;
}

export interface Saved {
  sha256: string;
  kept: boolean;
  replacedBytes: number;
  notSynced: { code: string; what: string }[];
}

interface Reply {
  id: number;
  sha256?: string;
  saved?: Saved;
  error?: { message: string; code?: string };
}

interface Waiting {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

/** One body on its way through a worker. */
export interface BodyJob {
  /** Hashes these chunks and, with a file, writes them at `position`; the chunks are unusable afterwards. */
  send(chunks: Buffer[], position: number): Promise<void>;
  /** The SHA-256 of everything sent, once every batch is done. */
  finish(): Promise<string>;
  /** Forgets a body that will not be finished (once no batch is in flight). */
  abandon(): void;
}

/** The memory of chunks that own all of it moves to the worker; other chunks are copied first. */
function transferable(chunks: Buffer[]): ArrayBuffer[] {
  return chunks.map((chunk) =>
    chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer
      ? chunk.buffer
      : new Uint8Array(chunk).buffer,
  );
}

class BodyWorker {
  private worker: Worker | undefined;
  /** Replies come back in the order of the messages, per body. */
  private readonly waiting = new Map<number, Waiting[]>();
  active = 0;

  post(id: number, message: { kind: 'batch' | 'end' | 'save'; fd?: number; position?: number; buffers?: ArrayBuffer[] } & Partial<SaveRequest>): Promise<Reply> {
    const worker = this.worker ?? this.start();
    return new Promise((resolve, reject) => {
      // A worker keeps the process alive only while a reply is awaited.
      if (this.waiting.size === 0) worker.ref();
      const queue = this.waiting.get(id) ?? [];
      queue.push({ resolve, reject });
      this.waiting.set(id, queue);
      try {
        worker.postMessage({ id, ...message }, message.buffers ? [...new Set(message.buffers)] : []);
      } catch (error) {
        this.take(worker, id, 'newest');
        reject(error as Error);
      }
    });
  }

  /** A waiting reply of `id` taken out: the oldest (replies come in order), or the one just added (its message was never sent). */
  private take(worker: Worker, id: number, which: 'oldest' | 'newest' = 'oldest'): Waiting | undefined {
    const queue = this.waiting.get(id);
    const next = which === 'oldest' ? queue?.shift() : queue?.pop();
    if (queue?.length === 0) this.waiting.delete(id);
    if (this.waiting.size === 0) worker.unref();
    return next;
  }

  forget(id: number): void {
    this.worker?.postMessage({ id, kind: 'forget' });
  }

  private start(): Worker {
    const worker = new Worker(SOURCE, { eval: true });
    worker.on('message', (reply: Reply) => {
      const next = this.take(worker, reply.id);
      if (!next) return;
      if (reply.error) next.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else next.resolve(reply);
    });
    // A worker that died fails the bodies it had; the next body starts a new one.
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const queue of this.waiting.values()) for (const { reject } of queue) reject(error);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the upload worker stopped (exit code ${code})`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

const WORKERS = Math.min(2, availableParallelism());
const workers = Array.from({ length: WORKERS }, () => new BodyWorker());
let nextId = 0;

const leastBusy = (): BodyWorker => workers.reduce((best, candidate) => (candidate.active < best.active ? candidate : best));

/**
 * Saves a small body whole on a worker: create the temp file, write,
 * fsync, close, rename, fsync the folder, all in one message. Through
 * libuv's pool that was eight round trips between threads, each waking a
 * thread; they cost more than the syscalls themselves (see docs/benchmarks.md,
 * "4 KiB uploads").
 */
export async function saveOnWorker(chunks: Buffer[], request: SaveRequest): Promise<Saved> {
  const worker = leastBusy();
  worker.active++;
  try {
    const reply = await worker.post(nextId++, { kind: 'save', buffers: transferable(chunks), ...request });
    return reply.saved as Saved;
  } finally {
    worker.active--;
  }
}

/** Starts a body on the least busy worker; `fd` is the open file to write into (none: only hash). */
export function startBodyJob(fd: number | undefined): BodyJob {
  const worker = leastBusy();
  const id = nextId++;
  worker.active++;
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    worker.active--;
  };
  return {
    send: async (chunks, position) => {
      await worker.post(id, { kind: 'batch', fd, position, buffers: transferable(chunks) });
    },
    finish: async () => {
      try {
        return (await worker.post(id, { kind: 'end' })).sha256 as string;
      } finally {
        release();
      }
    },
    abandon: () => {
      worker.forget(id);
      release();
    },
  };
}
