/**
 * The GUI client of `gui-load.ts`, on a thread of its own so that the
 * uploading client's work (hashing, TLS) does not delay its clock: asks for
 * one API method again and again until told to stop, then posts the answer
 * times in milliseconds.
 */
import { Agent } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { call } from './tools.js';

const { port, token, method, pauseMs } = workerData as { port: number; token: string; method: string; pauseMs: number };
const agent = new Agent({ keepAlive: true });
const times: number[] = [];
let running = true;
parentPort?.once('message', () => (running = false));

while (running) {
  const started = performance.now();
  await call(port, agent, 'POST', `/api/${method}`, Buffer.alloc(0), { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });
  times.push(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
agent.destroy();
parentPort?.postMessage(times);
