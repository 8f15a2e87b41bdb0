import { app, BrowserWindow, clipboard, dialog, Notification, powerMonitor, safeStorage } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller } from '../control/controller.js';
import { declareAppScheme, serveApp } from './app-protocol.js';
import { HIDDEN_FLAG, setAutostart } from './autostart.js';
import { EVENT_CHANNEL } from './channels.js';
import { forwardEvents, isFromOwnPage, registerIpc } from './ipc.js';
import { systemKeychain } from './keychain.js';
import { KeepAwake } from './keep-awake.js';
import { drainOnQuit } from './lifecycle.js';
import { AppTray } from './tray.js';
import { createMainWindow, denyPermissions, guardAllContents } from './window.js';

// The Electron shell: thin glue from tray, window, IPC and system events onto
// the controller, which decides everything (see docs/architecture.md).
const here = dirname(fileURLToPath(import.meta.url));
const RENDERER = join(here, '..', '..', 'renderer');
const PRELOAD = join(here, 'preload.cjs');

let window: BrowserWindow | undefined;

function showWindow(): void {
  if (!window) return;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

const notify = (title: string, body: string) => {
  if (Notification.isSupported()) new Notification({ title, body }).show();
};

async function start(): Promise<void> {
  denyPermissions();
  guardAllContents();
  serveApp(RENDERER);
  const controller = await Controller.open({
    configDir: app.getPath('userData'),
    desktop: true,
    keychain: await systemKeychain(safeStorage),
    // Put there by electron-builder from build/restic/ (scripts/bundle-restic.mjs); absent when run from the sources.
    bundledRestic: join(process.resourcesPath, 'restic', process.platform === 'win32' ? 'restic.exe' : 'restic'),
    askFolder: async () => {
      const options = { properties: ['openDirectory' as const, 'createDirectory' as const], title: 'Where should the backups go?' };
      const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
    askSaveFile: async (fileName) => {
      const options = { defaultPath: join(app.getPath('downloads'), fileName), title: 'Save the file from the backups' };
      const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? null : result.filePath;
    },
  });
  const isQuitting = drainOnQuit(app, () => controller.close());
  const onBug = (error: unknown) => console.error('internal error:', error);
  registerIpc(controller, (event) => isFromOwnPage(event, window?.webContents), onBug);

  let state = await controller.getState();
  const hidden = process.argv.includes(HIDDEN_FLAG) && state.setupComplete;
  window = createMainWindow(PRELOAD, () => notify('Restic Tray Server is still running', 'Backups go on in the background. Quit from the tray icon.'), isQuitting, hidden);
  forwardEvents(controller, (event, payload) => window?.webContents.send(EVENT_CHANNEL, event, payload));

  const tray = new AppTray(state, (action) => {
    if (action === 'open') showWindow();
    else if (action === 'quit') app.quit();
    else if (action === 'copy-address' && state.clientUrl) clipboard.writeText(state.clientUrl);
    else if (action === 'toggle') void (state.status === 'stopped' || state.status === 'error' ? controller.startServer() : controller.stopServer());
  });
  let autostart = state.settings.autostart;
  controller.on('state', (next) => {
    state = next;
    tray.update(next);
    if (next.settings.autostart !== autostart) {
      autostart = next.settings.autostart;
      void setAutostart(autostart).catch(onBug);
    }
  });
  controller.on('notification', (note) => notify(note.title, note.body));

  const keepAwake = new KeepAwake();
  controller.on('requests', (entries) => {
    if (state.settings.keepAwake && entries.some((entry) => entry.method === 'POST')) keepAwake.activity();
  });
  app.on('will-quit', () => {
    keepAwake.release();
    tray.destroy();
  });
  // After sleep the disk may be another one (or gone) and the network may have changed.
  powerMonitor.on('resume', () => void controller.refreshNetwork().catch(onBug));
}

declareAppScheme();
if (!app.requestSingleInstanceLock()) {
  // Never two servers on one disk: the first instance shows its window instead.
  app.quit();
} else {
  app.on('second-instance', showWindow);
  // The app lives in the tray: closing the last window does not quit it.
  app.on('window-all-closed', () => undefined);
  void app.whenReady().then(start);
}
