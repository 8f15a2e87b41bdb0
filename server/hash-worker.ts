import { Worker } from 'node:worker_threads';

/**
 * SHA-256 of upload bodies on a worker thread. Hashing was about a third of
 * the main thread's cycles during large uploads (see the README's benchmark);
 * here the main thread only copies each chunk into a shared slab and hands
 * the slab over. Messages to one worker arrive in order, so each hash sees
 * its slabs in the order they were filled. The worker is started on the
 * first hash and does not keep the process alive.
 */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', ({ seq, id, kind, slab, length }) => {
  let hash = hashes.get(id);
  if (kind === 'update') {
    if (!hash) hashes.set(id, (hash = createHash('sha256')));
    hash.update(new Uint8Array(slab, 0, length));
    parentPort.postMessage({ seq });
  } else if (kind === 'digest') {
    hashes.delete(id);
    parentPort.postMessage({ seq, hex: (hash ?? createHash('sha256')).digest('hex') });
  } else {
    hashes.delete(id);
  }
});
`;

interface Waiting {
  resolve: (hex: string | undefined) => void;
  reject: (error: Error) => void;
}

/** One body's hash in progress on the worker. */
export interface RunningHash {
  /** Hashes the first `length` bytes of a slab; resolves once the slab may be reused. */
  update(slab: Buffer, length: number): Promise<void>;
  digest(): Promise<string>;
  /** Forgets a hash that will not be finished (the upload failed). */
  drop(): void;
}

class HashWorker {
  private worker: Worker | undefined;
  private nextSeq = 0;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();

  begin(): RunningHash {
    const id = this.nextId++;
    return {
      update: async (slab, length) => {
        await this.send({ id, kind: 'update', slab: slab.buffer, length });
      },
      digest: async () => (await this.send({ id, kind: 'digest' })) as string,
      drop: () => this.worker?.postMessage({ id, kind: 'drop' }),
    };
  }

  private send(message: { id: number; kind: string; slab?: ArrayBufferLike; length?: number }): Promise<string | undefined> {
    const worker = this.worker ?? this.start();
    const seq = this.nextSeq++;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      worker.postMessage({ seq, ...message });
    });
  }

  private start(): Worker {
    const worker = new Worker(SOURCE, { eval: true });
    worker.unref();
    worker.on('message', ({ seq, hex }: { seq: number; hex?: string }) => {
      this.waiting.get(seq)?.resolve(hex);
      this.waiting.delete(seq);
    });
    // A worker that died fails the uploads it was hashing; the next upload starts a new one.
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const { reject } of this.waiting.values()) reject(error);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the hashing worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

/** One worker for the process: SHA-256 with the CPU's SHA instructions keeps up with several disks. */
export const hashWorker = new HashWorker();
