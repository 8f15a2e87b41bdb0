import { app, BrowserWindow, Menu, session, type BrowserWindowConstructorOptions, type MenuItemConstructorOptions, type WebContents } from 'electron';
import { APP_ORIGIN } from './app-protocol.js';

/** The only settings the window is ever made with: the page is untrusted. */
export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1180,
    height: 820,
    minWidth: 720,
    minHeight: 520,
    show: false,
    title: 'Restic Tray Server',
    webPreferences: {
      preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

/** Whether a page is the app's own GUI (and not something it was navigated to). */
export const isAppPage = (url: string): boolean => url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);

/** No navigation away, no new windows, no webviews: the GUI needs none of them. */
export function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppPage(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppPage(url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/**
 * The application menu: none, so a packaged build offers no DevTools or
 * reload. macOS keeps the app and Edit menus, without which its keyboard
 * shortcuts (copy, paste, quit) do not work in the window.
 */
export function applicationMenu(platform: NodeJS.Platform): MenuItemConstructorOptions[] | null {
  return platform === 'darwin' ? [{ role: 'appMenu' }, { role: 'editMenu' }] : null;
}

/**
 * Locks down every web contents the app ever has, not only the main
 * window's: whatever made one, it cannot navigate away, open windows or
 * attach webviews.
 */
export function guardAllContents(platform: NodeJS.Platform = process.platform): void {
  const template = applicationMenu(platform);
  Menu.setApplicationMenu(template && Menu.buildFromTemplate(template));
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
}

/** The one permission the GUI uses: writing to the clipboard (the copy buttons). Everything else is refused. */
const ALLOWED = new Set(['clipboard-sanitized-write']);

export function denyPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(ALLOWED.has(permission)));
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => ALLOWED.has(permission));
}

/**
 * Whether closing the window may hide it: GNOME shows no tray icons without
 * the AppIndicator extension, and a hidden window could not be found again,
 * so there it is minimised instead.
 */
export function canHideToTray(platform: NodeJS.Platform, desktop = process.env.XDG_CURRENT_DESKTOP ?? ''): boolean {
  return platform !== 'linux' || !/gnome/i.test(desktop);
}

/**
 * The main window. Closing it hides it (the server goes on in the tray);
 * `onFirstHide` lets the app say so once.
 */
export function createMainWindow(preload: string, onFirstHide: () => void, isQuitting: () => boolean, startHidden = false): BrowserWindow {
  const window = new BrowserWindow(windowOptions(preload));
  let hiddenBefore = false;
  window.on('close', (event) => {
    if (isQuitting()) return;
    event.preventDefault();
    if (!canHideToTray(process.platform)) return window.minimize();
    window.hide();
    if (!hiddenBefore) {
      hiddenBefore = true;
      onFirstHide();
    }
  });
  if (!startHidden) window.once('ready-to-show', () => window.show());
  void window.loadURL(`${APP_ORIGIN}/index.html`);
  return window;
}
