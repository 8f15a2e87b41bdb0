import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { afterAll } from 'vitest';
import type { ControllerOptions } from '../../main/control/controller.js';
import { startBridge, type Bridge } from '../../main/headless/bridge.js';
import { freePort, openController, waitForState } from './controller.js';
import { tempDir } from './temp-dir.js';

const bridges: Bridge[] = [];
afterAll(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.close()));
});

/**
 * Headless mode, as `npm run headless` runs it, on a config folder of its own
 * (a free port for the server); `desktop` plays the desktop app's controller.
 */
export async function headless(options: Partial<ControllerOptions> = {}) {
  const { controller, configDir } = await openController(options);
  await controller.updateSettings({ port: await freePort() });
  const bugs: unknown[] = [];
  const bridge = await startBridge({ api: controller, port: 0, staticDir: 'dist/renderer', onBug: (error) => bugs.push(error) });
  bridges.push(bridge);
  return { controller, configDir, bridge, bugs };
}

type Added = Awaited<ReturnType<Awaited<ReturnType<typeof headless>>['controller']['addComputer']>>;

/**
 * Headless mode past its first run, on a backup folder (a fresh one, `data`,
 * unless given) with these computers added (`computers`, in order); serving
 * unless `serve` is false, over HTTPS unless `tls` is false.
 */
export async function setUpHeadless<const Names extends readonly string[] = []>(setup: { tls?: boolean; folder?: string; computers?: Names; serve?: boolean; options?: Partial<ControllerOptions> } = {}) {
  const opened = await headless(setup.options);
  const { controller } = opened;
  if (setup.tls === false) await controller.setTls({ enabled: false });
  const data = setup.folder ?? tempDir('rts-data-');
  await controller.chooseFolder({ path: data });
  await controller.updateSettings({ setupComplete: true });
  const computers: Added[] = [];
  for (const displayName of setup.computers ?? []) computers.push(await controller.addComputer({ displayName }));
  if (setup.serve !== false) {
    await controller.startServer();
    await waitForState(controller, (state) => state.status === 'serving');
  }
  return { ...opened, data, computers: computers as { -readonly [K in keyof Names]: Added } };
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

export const HEADLESS_CLI = 'dist/main/headless/cli.js';

/**
 * `npm run headless` as a real process, its stdout a pipe (as under a
 * service manager); resolves once it printed its settings folder, the last
 * line of its start.
 */
export function startHeadlessCli(configDir: string, args: string[] = []) {
  const child = spawn(process.execPath, [HEADLESS_CLI, '--config-dir', configDir, ...args]);
  children.push(child);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    child.kill('SIGTERM');
    return exited;
  };
  return new Promise<{ out: () => string; origin: string; stop: () => Promise<number | null>; pid: number }>((resolve, reject) => {
    const look = () => {
      const origin = /^GUI: (http:\/\/127\.0\.0\.1:\d+)\/$/m.exec(out)?.[1];
      if (origin && /^Settings: /m.test(out)) return resolve({ out: () => out, origin, stop, pid: child.pid as number });
      if (child.exitCode !== null) return reject(new Error(`headless mode exited ${child.exitCode}: ${out}`));
      setTimeout(look, 50);
    };
    look();
  });
}

/** The status of one API call to headless mode's GUI with this token. */
export function callGui(origin: string, token: string, method = 'getState', input?: unknown): Promise<number> {
  const { port } = new URL(origin);
  return new Promise((resolve, reject) =>
    request({ host: '127.0.0.1', port, method: 'POST', path: `/api/${method}`, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end(input === undefined ? '' : JSON.stringify(input)),
  );
}
