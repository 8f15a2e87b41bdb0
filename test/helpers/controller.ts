import { spawn } from 'node:child_process';
import { afterAll } from 'vitest';
import { freePort } from '../../bench/tools.js';
import type { AppState } from '../../main/contract.js';
import { Controller, type OpenOptions } from '../../main/control/controller.js';
import { tempDir } from './temp-dir.js';

const opened: Controller[] = [];
afterAll(async () => {
  await Promise.all(opened.splice(0).map((controller) => controller.close()));
});

export interface OpenedController {
  controller: Controller;
  configDir: string;
  /** The LAN addresses the controller sees; change them in place to play a network change. */
  lan: string[];
}

/** A controller on a fresh config folder, seeing `lan` as this computer's LAN addresses (loopback ones in tests). */
export async function openController(options: Partial<OpenOptions> & { lan?: string[] } = {}): Promise<OpenedController> {
  const lan = options.lan ?? ['127.0.0.2'];
  const configDir = options.configDir ?? tempDir('rts-config-');
  const controller = await Controller.open({
    hostName: 'testhost',
    timeouts: { drainMs: 2000 },
    ...options,
    configDir,
    lanAddresses: () => [...lan],
  });
  opened.push(controller);
  return { controller, configDir, lan };
}

/** A controller serving plain HTTP (tests about the state, not TLS) from `path`, a fresh folder unless given. */
export async function openServing(options: { path?: string; configDir?: string; tickMs?: number; now?: () => number } = {}) {
  const opened = await openController({ configDir: options.configDir, tickMs: options.tickMs, now: options.now });
  const data = options.path ?? tempDir('rts-data-');
  await opened.controller.setTls({ enabled: false });
  await opened.controller.chooseFolder({ path: data });
  await opened.controller.updateSettings({ port: await freePort() });
  await opened.controller.startServer();
  const state = await waitForState(opened.controller, (s) => s.status === 'serving');
  return { ...opened, data, url: (state.clientUrl as string).replace(/\/$/, '') };
}

/** A TCP port that was free a moment ago (the bench asks the same way). */
export { freePort };

/** Polls the state until `accept` holds; fails with the last state seen. */
export async function waitForState(controller: Controller, accept: (state: AppState) => boolean, timeoutMs = 15_000): Promise<AppState> {
  const deadline = Date.now() + timeoutMs;
  let state = await controller.getState();
  while (!accept(state)) {
    if (Date.now() > deadline) throw new Error(`state not reached; last: ${JSON.stringify({ status: state.status, sentence: state.sentence })}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = await controller.getState();
  }
  return state;
}

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script in bash, asynchronously (the server under test lives in this process). */
export function runBash(script: string, env: Record<string, string>, timeoutMs = 120_000): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
