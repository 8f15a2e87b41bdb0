import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * bcrypt (bcryptjs, plain JavaScript) costs tens of milliseconds of CPU per
 * check. Run on the main thread it would stall every request meanwhile, so
 * it runs in a worker thread. The worker is started on the first check and
 * does not keep the process alive.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch {}
  parentPort.postMessage({ id, ok });
});
`;

export class BcryptWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (ok: boolean) => void; reject: (error: Error) => void }>();

  compare(password: string, hash: string): Promise<boolean> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, password, hash });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const bcryptjs = createRequire(import.meta.url).resolve('bcryptjs');
    const worker = new Worker(SOURCE, { eval: true, workerData: { bcryptjs } });
    worker.unref();
    worker.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      this.waiting.get(id)?.resolve(ok);
      this.waiting.delete(id);
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
