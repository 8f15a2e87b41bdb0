import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../main/csp.js';
import { APP_SCHEME, declareAppScheme, resolveAppFile, serveApp } from '../../../main/electron/app-protocol.js';
import { canHideToTray, createMainWindow, denyPermissions, guardAllContents, windowOptions } from '../../../main/electron/window.js';
import { app, BrowserWindow, FakeWebContents, Menu, protocol, session } from '../../fakes/electron.js';
import { tempDir } from '../../helpers/temp-dir.js';

vi.mock('electron', () => import('../../fakes/electron.js'));

describe('the window', () => {
  it('is made with the secure settings only', () => {
    expect(windowOptions('/app/preload.cjs').webPreferences).toEqual({
      preload: '/app/preload.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    });
  });

  it('loads the GUI from app://, refuses navigation elsewhere, new windows and webviews', () => {
    guardAllContents('linux');
    const window = createMainWindow('/p.cjs', () => undefined, () => false) as unknown as BrowserWindow;
    expect(window.loaded).toBe('app://gui/index.html');
    const navigate = (name: string, url: string) => {
      let prevented = false;
      window.webContents.emit(name, { preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(navigate('will-navigate', 'https://evil.example/')).toBe(true);
    expect(navigate('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(navigate('will-redirect', 'http://127.0.0.1:8000/')).toBe(true);
    expect(navigate('will-navigate', 'app://gui/index.html#/log')).toBe(false);
    expect(window.webContents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(navigate('will-attach-webview', '')).toBe(true);
  });

  it('locks down any web contents the app gets, not only the window’s, and has no menu with DevTools', () => {
    guardAllContents('linux');
    expect(Menu.application).toBeNull();
    const stray = new FakeWebContents();
    app.emit('web-contents-created', {}, stray);
    let prevented = false;
    stray.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example/');
    expect(prevented).toBe(true);
    expect(stray.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    let attached = true;
    stray.emit('will-attach-webview', { preventDefault: () => (attached = false) });
    expect(attached).toBe(false);

    // macOS keeps its app and Edit menus (keyboard shortcuts), nothing to debug with.
    guardAllContents('darwin');
    expect(Menu.application?.items.map((item) => item.role)).toEqual(['appMenu', 'editMenu']);
  });

  it('hides on close (saying so the first time), and closes when the app quits', () => {
    let quitting = false;
    const said: string[] = [];
    const window = createMainWindow('/p.cjs', () => said.push('still running'), () => quitting) as unknown as BrowserWindow;
    window.show();
    expect(window.close()).toBe(false);
    expect(window.visible).toBe(process.platform === 'linux' && /gnome/i.test(process.env.XDG_CURRENT_DESKTOP ?? ''));
    window.show();
    window.close();
    expect(said).toEqual(canHideToTray(process.platform) ? ['still running'] : []);
    quitting = true;
    expect(window.close()).toBe(true);
  });

  it('shows itself when ready, unless started hidden at login', () => {
    const shown = createMainWindow('/p.cjs', () => undefined, () => false) as unknown as BrowserWindow;
    const hidden = createMainWindow('/p.cjs', () => undefined, () => false, true) as unknown as BrowserWindow;
    shown.emit('ready-to-show');
    hidden.emit('ready-to-show');
    expect([shown.visible, hidden.visible]).toEqual([true, false]);
  });

  it('minimises instead of hiding where no tray icon can be shown (GNOME)', () => {
    expect(canHideToTray('linux', 'ubuntu:GNOME')).toBe(false);
    expect(canHideToTray('linux', 'KDE')).toBe(true);
    expect(canHideToTray('win32', 'GNOME')).toBe(true);
    expect(canHideToTray('darwin')).toBe(true);
  });

  it('grants no permission but writing to the clipboard', () => {
    denyPermissions();
    const asked = (permission: string) => {
      let granted: boolean | undefined;
      session.defaultSession.requestHandler?.({}, permission, (answer) => (granted = answer));
      return granted;
    };
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'usb']) expect([permission, asked(permission)]).toEqual([permission, false]);
    expect(asked('clipboard-sanitized-write')).toBe(true);
    expect(session.defaultSession.checkHandler?.({}, 'hid')).toBe(false);
    expect(BrowserWindow.created.length).toBeGreaterThan(0);
  });
});

describe('the app:// protocol', () => {
  const root = tempDir('rts-gui-');
  mkdirSync(join(root, 'renderer'));
  writeFileSync(join(root, 'renderer', 'index.html'), '<!doctype html><title>GUI</title>');
  writeFileSync(join(root, 'secret.txt'), 'outside');
  const gui = join(root, 'renderer');

  it.each([
    ['app://gui/', join(gui, 'index.html')],
    ['app://gui/index.html', join(gui, 'index.html')],
    ['app://gui/app.js', join(gui, 'app.js')],
    // URL parsing resolves dots, encoded or not, before the path is looked at: these stay inside.
    ['app://gui/../secret.txt', join(gui, 'secret.txt')],
    ['app://gui/%2e%2e/secret.txt', join(gui, 'secret.txt')],
    ['app://gui/..%2fsecret.txt', undefined],
    ['app://gui/%2e%2e%5csecret.txt', undefined],
    ['app://gui/.env', undefined],
    ['app://gui/%', undefined],
    ['app://other/index.html', undefined],
    ['file:///etc/passwd', undefined],
  ])('%s', (url, file) => {
    const resolved = resolveAppFile(gui, url);
    expect(resolved).toBe(file);
    if (resolved !== undefined) expect(resolved.startsWith(`${gui}/`)).toBe(true);
  });

  it('serves the GUI with the strict CSP, and nothing else', async () => {
    declareAppScheme();
    expect(protocol.privileged).toEqual([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);
    serveApp(gui);
    const handler = protocol.handlers.get(APP_SCHEME) as (request: Request) => Promise<Response>;
    const page = await handler(new Request('app://gui/index.html'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>GUI</title>');
    const outside = await handler(new Request('app://gui/%2e%2e/secret.txt'));
    expect(outside.status).toBe(404);
    expect(await outside.text()).toBe('Not found');
  });
});
