import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * bcrypt (bcryptjs, plain JavaScript) costs tens of milliseconds of CPU per
 * check or new hash. Run on the main thread it would stall every request
 * meanwhile (bcryptjs's asynchronous form still runs in slices of up to
 * 100 ms), so it runs in a worker thread. The worker is started on first use
 * and does not keep the process alive.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', ({ id, password, hash, cost }) => {
  if (cost !== undefined) return parentPort.postMessage({ id, hash: bcrypt.hashSync(password, cost) });
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch {}
  parentPort.postMessage({ id, ok });
});
`;

interface Reply {
  id: number;
  ok?: boolean;
  hash?: string;
}

export class BcryptWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();

  async compare(password: string, hash: string): Promise<boolean> {
    return (await this.ask({ password, hash })).ok === true;
  }

  /** A new bcrypt hash of `password` at this cost. */
  async hash(password: string, cost: number): Promise<string> {
    return (await this.ask({ password, cost })).hash as string;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private ask(message: { password: string; hash?: string; cost?: number }): Promise<Reply> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Held while it has work, so that a process waiting for a hash lives until it comes.
      worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...message });
    });
  }

  private start(): Worker {
    const bcryptjs = createRequire(import.meta.url).resolve('bcryptjs');
    const worker = new Worker(SOURCE, { eval: true, workerData: { bcryptjs } });
    worker.on('message', (reply: Reply) => {
      this.waiting.get(reply.id)?.resolve(reply);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
    });
    // A worker that died fails the checks it had; the next check starts a new one.
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const { reject } of this.waiting.values()) reject(error);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the password worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
