import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { desktopEntry, HIDDEN_FLAG, setAutostart } from '../../../main/electron/autostart.js';
import { KeepAwake } from '../../../main/electron/keep-awake.js';
import { drainOnQuit } from '../../../main/electron/lifecycle.js';
import { app, powerSaveBlocker } from '../../fakes/electron.js';
import { freePort, openController, waitForState } from '../../helpers/controller.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { makeObject } from '../../helpers/http.js';

vi.mock('electron', () => import('../../fakes/electron.js'));

describe('autostart', () => {
  it('writes a freedesktop autostart entry on Linux that starts hidden, and removes it', async () => {
    const configHome = tempDir('rts-xdg-');
    await setAutostart(true, 'linux', configHome);
    const file = join(configHome, 'autostart', 'restic-tray-server.desktop');
    expect(readFileSync(file, 'utf8')).toBe(desktopEntry(process.env.APPIMAGE ?? process.execPath, ['/opt/restic-tray-server/resources/app']));
    expect(readFileSync(file, 'utf8')).toMatch(/^\[Desktop Entry\]\nType=Application\nName=Restic Tray Server\n/);
    await setAutostart(false, 'linux', configHome);
    expect(existsSync(file)).toBe(false);
  });

  it('quotes the command as the Desktop Entry Specification asks', () => {
    expect(desktopEntry('/opt/Restic Tray Server/restic-tray-server', [])).toContain(`Exec="/opt/Restic Tray Server/restic-tray-server" ${HIDDEN_FLAG}\n`);
    expect(desktopEntry('/usr/bin/electron', ['/home/a/app$"x'])).toContain('Exec=/usr/bin/electron "/home/a/app\\$\\"x" --hidden\n');
  });

  it('uses the system login items on Windows and macOS', async () => {
    await setAutostart(true, 'win32');
    await setAutostart(false, 'darwin');
    expect(app.loginItems).toEqual([
      { openAtLogin: true, args: [HIDDEN_FLAG] },
      { openAtLogin: false, args: [HIDDEN_FLAG] },
    ]);
  });
});

describe('keep-awake', () => {
  it('blocks sleep at the first upload and releases it after a quiet while', () => {
    vi.useFakeTimers();
    try {
      const keepAwake = new KeepAwake(1000);
      keepAwake.activity();
      keepAwake.activity();
      expect(powerSaveBlocker.active.size).toBe(1);
      vi.advanceTimersByTime(900);
      keepAwake.activity();
      vi.advanceTimersByTime(900);
      expect(powerSaveBlocker.active.size).toBe(1);
      vi.advanceTimersByTime(200);
      expect(powerSaveBlocker.active.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('quit', () => {
  it('lets an upload in flight finish, then exits', async () => {
    const { controller } = await openController();
    await controller.setTls({ enabled: false });
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    await controller.updateSettings({ port: await freePort(), appendOnly: false });
    const { username, password } = await controller.addComputer({ displayName: 'Anna', appendOnly: false });
    await controller.startServer();
    const state = await waitForState(controller, (s) => s.status === 'serving');
    const base = (state.clientUrl as string).replace(/\/$/, '');
    const auth = { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    expect((await fetch(`${base}/${username}/?create=true`, { method: 'POST', headers: auth })).status).toBe(200);

    const isQuitting = drainOnQuit(app as never, () => controller.close());
    const { id, data } = makeObject(4 << 20);
    // A slow upload: half now, the rest after quit was asked for.
    const body = new ReadableStream<Uint8Array>({
      async start(stream) {
        stream.enqueue(data.subarray(0, data.length / 2));
        await new Promise((resolve) => setTimeout(resolve, 400));
        stream.enqueue(data.subarray(data.length / 2));
        stream.close();
      },
    });
    const upload = fetch(`${base}/${username}/data/${id}`, { method: 'POST', headers: auth, body, duplex: 'half' } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 150));
    let prevented = false;
    app.emit('before-quit', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    expect(isQuitting()).toBe(true);
    expect((await upload).status).toBe(200);
    await expect.poll(() => app.exitCode).toBe(0);
    await expect(fetch(`${base}/config`)).rejects.toThrow();
  });
});
