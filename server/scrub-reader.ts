import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Reads and hashes whole files for the scrub on worker threads, with
 * synchronous reads: neither the event loop nor libuv's thread pool (which
 * the uploads' file calls go through) waits for the disk. Two workers read
 * two files at once, so that one hashes while the other waits for the disk
 * (one alone reached half the disk's rate here). The reading pace is shared
 * memory the main thread changes at any time: a limit in KiB per second for
 * all workers together (0: none), and a stop flag that ends the files being
 * read.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync, fstatSync } = require('node:fs');
const pace = new Int32Array(workerData.pace);
const share = workerData.share;
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
      const limit = Atomics.load(pace, LIMIT) / share;
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

interface Waiting {
  resolve: (read: FileRead) => void;
  reject: (error: Error) => void;
}

export class ScrubReader {
  private readonly pace = new Int32Array(new SharedArrayBuffer(12));
  private readonly workers: { worker: Worker; waiting: Map<number, Waiting> }[];
  private nextId = 0;

  constructor(count = Math.min(2, availableParallelism())) {
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(SOURCE, { eval: true, workerData: { pace: this.pace.buffer, share: count } });
      const waiting = new Map<number, Waiting>();
      worker.unref();
      worker.on('message', (reply: Partial<FileRead> & { id: number; stopped?: boolean; error?: { code?: string; message: string } }) => {
        const asked = waiting.get(reply.id);
        waiting.delete(reply.id);
        if (!asked) return;
        if (reply.stopped) asked.reject(new StopReading('stopped'));
        else if (reply.error) asked.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
        else asked.resolve(reply as FileRead);
      });
      const fail = (error: Error) => {
        for (const { reject } of waiting.values()) reject(error);
        waiting.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`the scrub's reader stopped (exit code ${code})`)));
      return { worker, waiting };
    });
  }

  /** How many files are read at once. */
  get parallel(): number {
    return this.workers.length;
  }

  /** Reads at most this many bytes per second, all workers together, from now on (Infinity: as fast as the disk goes). */
  setLimit(bytesPerSecond: number): void {
    Atomics.store(this.pace, 0, Number.isFinite(bytesPerSecond) ? Math.max(1, Math.round(bytesPerSecond / 1024)) : 0);
  }

  /** Ends the files being read (they reject with `StopReading`) and every later one. */
  stop(): void {
    Atomics.store(this.pace, 1, 1);
  }

  /** Reads and hashes one file on the least busy worker. */
  read(path: string): Promise<FileRead> {
    if (Atomics.load(this.pace, 1) === 1) return Promise.reject(new StopReading('stopped'));
    const id = this.nextId++;
    const least = this.workers.reduce((best, candidate) => (candidate.waiting.size < best.waiting.size ? candidate : best));
    return new Promise((resolve, reject) => {
      least.waiting.set(id, { resolve, reject });
      least.worker.postMessage({ id, path });
    });
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
  }
}
