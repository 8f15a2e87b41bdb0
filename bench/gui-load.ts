/**
 * The GUI while backups arrive: headless mode (the app's brain, the backup
 * server and the GUI's API in one process, as in the desktop app) set up
 * through its API as a person would, with TLS and a computer's login, then
 * four connections upload as that computer while a GUI client keeps the
 * event stream open and, on threads of their own, asks again and again for
 * the state (what the dashboard shows: it also reads the disk, so it waits
 * behind the uploads' file work) and, at the same time, for the recent
 * summaries (memory only: its slowest answer bounds how long the process's
 * event loop was blocked).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Agent as TlsAgent } from 'node:https';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AppState, CaCertificate, LoginCreated } from '../main/contract.js';
import { call, cpuSeconds, freePort, inParallel, packMaker, sha256, timed } from './tools.js';

const CONNECTIONS = 4;
const PACKS = 32;
const PACK_SIZE = 16 << 20;
const POLL_EVERY_MS = 5;

/** Answer times of one API method, in milliseconds. */
export interface Answers {
  count: number;
  median: number;
  p99: number;
  max: number;
}

export interface GuiFigures {
  uploadMBps: number;
  cpuPerGb: number;
  state: Answers;
  inMemory: Answers;
}

function summarise(times: number[]): Answers {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] as number;
  return { count: sorted.length, median: at(0.5), p99: at(0.99), max: at(1) };
}

export interface Gui {
  port: number;
  token: string;
  api<T>(method: string, input?: unknown): Promise<T>;
}

function startHeadless(configDir: string): Promise<{ gui: Gui; stop: () => Promise<void>; pid: number }> {
  const child = spawn(process.execPath, ['dist/main/headless/cli.js', '--config-dir', configDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      // Its stdout is a pipe, so the key is not printed: the address is in its file, written before the Settings line.
      if (!/^Settings: /m.test(out)) return;
      // Read once: what it prints later (as its folder is removed at the end) is not looked at.
      child.stdout.off('data', read);
      child.stdout.resume();
      const match = /^http:\/\/127\.0\.0\.1:(\d+)\/#token=([\w-]+)$/m.exec(readFileSync(join(configDir, 'gui-address.txt'), 'utf8'));
      if (!match) return reject(new Error(`headless mode wrote no GUI address: ${out}`));
      const [, port, token] = match as unknown as [string, string, string];
      // A fresh connection per call: a kept-alive one may be closed by the bridge's idle timeout just as it is reused.
      const agent = new Agent({ keepAlive: false });
      const api = async <T>(method: string, input?: unknown): Promise<T> => {
        const body = await call(Number(port), agent, 'POST', `/api/${method}`, Buffer.from(input === undefined ? '' : JSON.stringify(input)), {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
        });
        return (JSON.parse(body.toString()) as { result: T }).result;
      };
      const stop = () => {
        child.kill('SIGTERM');
        return exited;
      };
      resolve({ gui: { port: Number(port), token, api }, stop, pid: child.pid as number });
    };
    child.stdout.on('data', read);
    child.on('exit', (code) => reject(new Error(`headless mode exited ${code}: ${out}`)));
  });
}

/** Keeps the GUI's event stream open and read, as the page does. */
function openEvents(gui: Gui): () => void {
  const req = request({ host: '127.0.0.1', port: gui.port, path: '/api/events', headers: { Authorization: `Bearer ${gui.token}` } }, (res) => res.resume());
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

/**
 * Follows the GUI's event stream, as the page does, until a state satisfies
 * `until`: what the page would show at that moment, without asking again and
 * again. `stop` closes the stream when it is not needed any more.
 */
export function watchState(gui: Gui): { next(until: (state: AppState) => boolean): Promise<AppState>; stop(): void } {
  let latest: AppState | undefined;
  let waiting: { until: (state: AppState) => boolean; resolve: (state: AppState) => void } | undefined;
  let text = '';
  const req = request({ host: '127.0.0.1', port: gui.port, path: '/api/events', headers: { Authorization: `Bearer ${gui.token}` } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        const frame = text.slice(0, end);
        text = text.slice(end + 2);
        const data = /^event: state\ndata: (.*)$/s.exec(frame)?.[1];
        if (data === undefined) continue;
        latest = JSON.parse(data) as AppState;
        if (waiting?.until(latest)) {
          waiting.resolve(latest);
          waiting = undefined;
        }
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    next: (until) =>
      new Promise((resolve) => {
        if (latest && until(latest)) resolve(latest);
        else waiting = { until, resolve };
      }),
    stop: () => req.destroy(),
  };
}

/**
 * The app looks after the backups of a computer whose password it keeps: its
 * first runs (a retention when due, the month's check) have ended, so that
 * nothing timed after this competes with them.
 */
export const firstCareDone =
  (username: string) =>
  (state: AppState): boolean =>
    state.caretaker.computers.some((care) => care.username === username && care.running === null && care.lastCheck !== null);

/** The app in headless mode, set up through its API, serving a computer's login over TLS. */
export interface BenchApp {
  gui: Gui;
  pid: number;
  /** The backup folder. */
  disk: string;
  port: number;
  agent: TlsAgent;
  headers: Record<string, string>;
  /** The computer's repository, e.g. `/bench-laptop`. */
  repo: string;
  /** Stops headless mode and waits until it has exited (its folders can then be removed). */
  close(): Promise<void>;
}

export async function openApp(work: string): Promise<BenchApp> {
  const disk = join(work, 'app-disk');
  mkdirSync(disk);
  const { gui, stop, pid } = await startHeadless(join(work, 'app-config'));
  try {
    await gui.api('chooseFolder', { path: disk });
    await gui.api('updateSettings', { port: await freePort() });
    const login = await gui.api<LoginCreated>('addComputer', { displayName: 'Bench laptop' });
    await gui.api('startServer');
    const state = await waitUntilServing(gui);
    const ca = await gui.api<CaCertificate>('caCertificate');
    const port = Number(new URL(state.clientUrl as string).port);
    const agent = new TlsAgent({ keepAlive: true, maxSockets: CONNECTIONS, ca: ca.pem });
    const headers = { Authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` };
    const repo = `/${login.username}`;
    await call(port, agent, 'POST', `${repo}/?create=true`, undefined, headers);
    return {
      gui,
      pid,
      disk,
      port,
      agent,
      headers,
      repo,
      close: () => {
        agent.destroy();
        return stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function waitUntilServing(gui: Gui): Promise<AppState> {
  let state = await gui.api<AppState>('getState');
  for (let tries = 0; state.status !== 'serving' && state.status !== 'attention'; tries++) {
    if (tries > 100) throw new Error(`headless mode does not serve: ${state.sentence}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = await gui.api<AppState>('getState');
  }
  return state;
}

/** Uploads `count` packs (numbered from `first`) as the app's computer over four connections; the seconds it took. */
export function uploadPacks(app: BenchApp, pack: (i: number) => Buffer, ids: string[], first: number, count: number): Promise<number> {
  return timed(() =>
    inParallel(count, CONNECTIONS, async (i) => {
      await call(app.port, app.agent, 'POST', `${app.repo}/data/${ids[first + i]}`, pack(first + i), app.headers);
    }),
  );
}

export async function guiUnderLoad(app: BenchApp): Promise<GuiFigures> {
  const { gui, pid } = app;
  const pack = packMaker(PACK_SIZE);
  const ids = Array.from({ length: PACKS }, (_, i) => sha256(pack(i)));
  const closeEvents = openEvents(gui);
  const pollers = (['getState', 'recentSummaries'] as const).map(
    (method) => new Worker(new URL('./gui-poller.js', import.meta.url), { workerData: { port: gui.port, token: gui.token, method, pauseMs: POLL_EVERY_MS } }),
  );
  const polled = pollers.map((poller) => new Promise<number[]>((resolve, reject) => poller.once('message', resolve).once('error', reject)));
  const cpuBefore = cpuSeconds(pid);
  const seconds = await uploadPacks(app, pack, ids, 0, PACKS);
  const cpu = cpuSeconds(pid) - cpuBefore;
  for (const poller of pollers) poller.postMessage('stop');
  const [stateTimes, inMemoryTimes] = (await Promise.all(polled)) as [number[], number[]];
  closeEvents();
  const total = PACKS * PACK_SIZE;
  return { uploadMBps: total / 1e6 / seconds, cpuPerGb: cpu / (total / 1e9), state: summarise(stateTimes), inMemory: summarise(inMemoryTimes) };
}
