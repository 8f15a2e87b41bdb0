import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AppState } from '../contract.js';
import { defaultConfigDir } from '../config-dir.js';
import { Controller } from '../control/controller.js';
import { startBridge, type Bridge } from './bridge.js';
import { ACCESS_FILE, ADDRESS_FILE, loadGuiAccess, newToken, renewGuiAccess, saveGuiAccess } from './gui-access.js';

const USAGE = `Usage: npm run headless -- [--config-dir DIR] [--gui-port N] [--new-token]

Runs Restic Tray Server without a desktop: the backup server and its GUI,
served on 127.0.0.1 only. Open the GUI address in a browser: it is printed
when this runs in a terminal, and kept in ${ADDRESS_FILE} in the settings
folder (readable only by you). It stays the same from one start to the next.

  --config-dir DIR   settings, logins and certificates (default: ${defaultConfigDir()})
  --gui-port N       port of the GUI on 127.0.0.1 (default: the one of last time, or any free port)
  --new-token        a new access key in the GUI address: the old address stops working
  --help             this text`;

/** How often headless mode looks whether the process that started it is still there. */
const PARENT_CHECK_MS = 500;

export interface HeadlessOptions {
  configDir: string;
  /** Null: the port of last time, or any free one when it is taken. */
  guiPort: number | null;
  newToken: boolean;
}

export function parseHeadlessArgs(argv: string[]): HeadlessOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: { 'config-dir': { type: 'string' }, 'gui-port': { type: 'string' }, 'new-token': { type: 'boolean' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) return 'help';
  const portText = values['gui-port'];
  if (portText !== undefined && (!/^\d+$/.test(portText) || Number(portText) > 65535)) throw new Error(`--gui-port ${portText}: expected a port number from 0 to 65535`);
  return { configDir: values['config-dir'] ?? defaultConfigDir(), guiPort: portText === undefined ? null : Number(portText), newToken: values['new-token'] === true };
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
  const { configDir } = options;
  const access = await loadGuiAccess(configDir);
  const addressFile = join(configDir, ADDRESS_FILE);
  let bridge: Bridge | undefined;
  const controller = await Controller.open({
    configDir,
    // Only a call through the bridge asks for a new address, so the bridge is there by then.
    gui: { addressFile, renew: () => renewGuiAccess(configDir, bridge as Bridge) },
  });
  const onBug = (error: unknown) => console.error('internal error:', error);
  controller.on('summary', (summary) => console.log(`${summary.time} ${summary.message}`));
  controller.on('notification', (note) => console.log(`${note.title}: ${note.body}`));
  const serve = (port: number) =>
    startBridge({
      api: controller,
      port,
      token: options.newToken ? newToken() : access.token,
      staticDir: fileURLToPath(new URL('../../renderer/', import.meta.url)),
      onBug,
    });
  const port = options.guiPort ?? access.port ?? 0;
  let moved = false;
  try {
    bridge = await serve(port).catch((error: NodeJS.ErrnoException) => {
      // The port of last time was taken meanwhile: any free one rather than no GUI.
      if (options.guiPort !== null || error.code !== 'EADDRINUSE') throw error;
      moved = true;
      return serve(0);
    });
    await saveGuiAccess(configDir, bridge.origin, bridge.token);
  } catch (error) {
    await bridge?.close();
    await controller.close();
    const code = (error as NodeJS.ErrnoException).code;
    console.error(code === 'EADDRINUSE' ? `The GUI port ${port} is in use; choose another with --gui-port, or leave it out.` : `Cannot start the GUI: ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const served = bridge;
  // The way to stop is in place before anything is printed: a stop sent as soon
  // as the first line is seen is a clean stop.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await served.close();
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
  if (access.damaged) console.log(`The GUI's saved address (${ACCESS_FILE}) was unreadable: it has a new one.`);
  if (moved) console.log(`The GUI's port of last time, ${port}, is taken by another program: the GUI moved to ${new URL(served.origin).port}, so its address changed.`);
  if (options.newToken) console.log('The GUI has a new address: the old one no longer works.');
  // Under a service manager stdout goes to a log that others may read (the journal): the key goes only to a terminal.
  if (process.stdout.isTTY) {
    console.log(`GUI: ${served.url}`);
  } else {
    console.log(`GUI: ${served.origin}/`);
    console.log(`The GUI's address with its access key is in ${addressFile} (readable only by this user).`);
  }
  console.log(`Settings: ${configDir}`);
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
