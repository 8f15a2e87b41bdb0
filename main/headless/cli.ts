import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AppState } from '../contract.js';
import { defaultConfigDir } from '../config-dir.js';
import { Controller } from '../control/controller.js';
import { startBridge } from './bridge.js';

const USAGE = `Usage: npm run headless -- [--config-dir DIR] [--gui-port N]

Runs Restic Tray Server without a desktop: the backup server and its GUI,
served on 127.0.0.1 only. Open the printed GUI address in a browser.

  --config-dir DIR   settings, logins and certificates (default: ${defaultConfigDir()})
  --gui-port N       port of the GUI on 127.0.0.1 (default: any free port)
  --help             this text`;

/** How often headless mode looks whether the process that started it is still there. */
const PARENT_CHECK_MS = 500;

export interface HeadlessOptions {
  configDir: string;
  guiPort: number;
}

export function parseHeadlessArgs(argv: string[]): HeadlessOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: { 'config-dir': { type: 'string' }, 'gui-port': { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) return 'help';
  const portText = values['gui-port'] ?? '0';
  const guiPort = Number(portText);
  if (!/^\d+$/.test(portText) || guiPort > 65535) throw new Error(`--gui-port ${portText}: expected a port number from 0 to 65535`);
  return { configDir: values['config-dir'] ?? defaultConfigDir(), guiPort };
}

/** Starts the controller and the GUI bridge; prints `GUI: <url>` when ready; stops cleanly on SIGINT/SIGTERM. */
export async function runHeadless(argv: string[]): Promise<void> {
  let options;
  try {
    options = parseHeadlessArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const controller = await Controller.open({ configDir: options.configDir });
  const onBug = (error: unknown) => console.error('internal error:', error);
  controller.on('summary', (summary) => console.log(`${summary.time} ${summary.message}`));
  controller.on('notification', (note) => console.log(`${note.title}: ${note.body}`));
  let bridge;
  try {
    bridge = await startBridge({
      api: controller,
      port: options.guiPort,
      staticDir: fileURLToPath(new URL('../../renderer/', import.meta.url)),
      onBug,
    });
  } catch (error) {
    await controller.close();
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE' ? `The GUI port ${options.guiPort} is in use; choose another with --gui-port, or leave it out.` : `Cannot start the GUI: ${(error as Error).message}`,
    );
    process.exitCode = 1;
    return;
  }
  // The way to stop is in place before anything is printed: a stop sent as soon
  // as the first line is seen is a clean stop.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await bridge.close();
    await controller.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  // Under `npm start` a shell sits between npm and this process, and a signal
  // sent to npm alone ends that shell but not us: when our parent is gone
  // (we were handed to another), stop as if signalled.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, PARENT_CHECK_MS).unref();
  console.log(`GUI: ${bridge.url}`);
  console.log(`Settings: ${options.configDir}`);
  // Once serving, and again whenever it changes: the address the family's computers use.
  let announced: string | null = null;
  const announce = (state: AppState) => {
    const address = state.status === 'serving' || state.status === 'attention' ? state.clientUrl : null;
    if (address !== null && address !== announced) console.log(`Computers connect to: ${address}`);
    announced = address;
  };
  controller.on('state', announce);
  announce(await controller.getState());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runHeadless(process.argv.slice(2));
