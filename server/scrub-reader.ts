import { Worker } from 'node:worker_threads';

/**
 * Reads and hashes whole files for the scrub on a worker thread, with
 * synchronous reads: neither the event loop nor libuv's thread pool (which
 * the uploads' file calls go through) waits for the disk. The reading pace is
 * shared memory the main thread changes at any time: a limit in KiB per
 * second (0: none), and a stop flag that ends the file being read.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync, fstatSync } = require('node:fs');
const pace = new Int32Array(workerData.pace);
const LIMIT = 0, STOP = 1, SLEEP = 2;
const buffer = Buffer.allocUnsafe(1 << 20);
const sleep = (ms) => Atomics.wait(pace, SLEEP, 0, ms);
parentPort.on('message', ({ id, path }) => {
  let fd;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const hash = createHash('sha256');
    const started = Date.now();
    let read = 0;
    let tail = Buffer.alloc(0);
    for (;;) {
      if (Atomics.load(pace, STOP) === 1) return parentPort.postMessage({ id, stopped: true });
      const n = readSync(fd, buffer, 0, buffer.length, read);
      if (n === 0) break;
      const chunk = buffer.subarray(0, n);
      hash.update(chunk);
      tail = Buffer.concat([tail, chunk.subarray(Math.max(0, n - 4))]).subarray(-4);
      read += n;
      const limit = Atomics.load(pace, LIMIT);
      if (limit > 0) {
        const due = (read / 1024 / limit) * 1000 - (Date.now() - started);
        if (due > 0) sleep(Math.min(due, 1000));
      }
    }
    parentPort.postMessage({ id, size, read, sha256: hash.digest('hex'), tail: tail.length === 4 ? tail.readUInt32LE(0) : null });
  } catch (error) {
    parentPort.postMessage({ id, error: { code: error && error.code, message: String(error && error.message) } });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

export interface FileRead {
  /** The size when opened, and the bytes actually read (fewer: the file shrank meanwhile). */
  size: number;
  read: number;
  sha256: string;
  /** The last four bytes as a little-endian number (a pack's header length), when there are four. */
  tail: number | null;
}

export class StopReading extends Error {}

export class ScrubReader {
  private readonly pace = new Int32Array(new SharedArrayBuffer(12));
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (read: FileRead) => void; reject: (error: Error) => void }>();

  constructor() {
    this.worker = new Worker(SOURCE, { eval: true, workerData: { pace: this.pace.buffer } });
    this.worker.unref();
    this.worker.on('message', (reply: Partial<FileRead> & { id: number; stopped?: boolean; error?: { code?: string; message: string } }) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (!waiting) return;
      if (reply.stopped) waiting.reject(new StopReading('stopped'));
      else if (reply.error) waiting.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else waiting.resolve(reply as FileRead);
    });
    const fail = (error: Error) => {
      for (const { reject } of this.waiting.values()) reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the scrub's reader stopped (exit code ${code})`)));
  }

  /** Reads at most this many bytes per second from now on (Infinity: as fast as the disk goes). */
  setLimit(bytesPerSecond: number): void {
    Atomics.store(this.pace, 0, Number.isFinite(bytesPerSecond) ? Math.max(1, Math.round(bytesPerSecond / 1024)) : 0);
  }

  /** Ends the file being read (it rejects with `StopReading`) and every later one. */
  stop(): void {
    Atomics.store(this.pace, 1, 1);
  }

  read(path: string): Promise<FileRead> {
    if (Atomics.load(this.pace, 1) === 1) return Promise.reject(new StopReading('stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, path });
    });
  }

  async close(): Promise<void> {
    this.stop();
    await this.worker.terminate();
  }
}
