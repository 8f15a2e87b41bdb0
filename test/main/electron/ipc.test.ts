import { describe, expect, it, vi } from 'vitest';
import { METHODS } from '../../../main/contract.js';
import { methodChannel } from '../../../main/electron/channels.js';
import { forwardEvents, isFromOwnPage, registerIpc } from '../../../main/electron/ipc.js';
import { BrowserWindow, ipcMain } from '../../fakes/electron.js';
import { openController } from '../../helpers/controller.js';

vi.mock('electron', () => import('../../fakes/electron.js'));

describe('IPC', () => {
  it('has one handler per contract method; only the app’s own page is answered; inputs are checked first', async () => {
    const { controller } = await openController();
    const window = new BrowserWindow({});
    const own = window.webContents as never;
    const bugs: unknown[] = [];
    const stop = registerIpc(controller, (event) => isFromOwnPage(event, own), (error) => bugs.push(error));
    expect([...ipcMain.handlers.keys()].sort()).toEqual(METHODS.map(methodChannel).sort());
    const call = (method: string, input: unknown, event: unknown) => (ipcMain.handlers.get(methodChannel(method)) as (event: unknown, input: unknown) => Promise<unknown>)(event, input);
    const fromApp = { sender: own, senderFrame: { url: 'app://gui/index.html' } };

    expect(await call('getState', undefined, fromApp)).toMatchObject({ ok: true, result: { status: 'stopped' } });
    expect(await call('addComputer', { displayName: 'Anna' }, fromApp)).toMatchObject({ ok: true, result: { username: 'anna' } });

    const foreign = [
      { sender: new BrowserWindow({}).webContents, senderFrame: { url: 'app://gui/index.html' } },
      { sender: own, senderFrame: { url: 'https://example.org/' } },
      { sender: own, senderFrame: { url: 'app://guix/index.html' } },
      { sender: own, senderFrame: null },
    ];
    for (const event of foreign) {
      expect(await call('addComputer', { displayName: 'Mallory' }, event)).toEqual({ ok: false, error: { code: 'forbidden', message: 'Only the app’s own window may call it.' } });
    }
    expect(await call('addComputer', { displayName: '', evil: true }, fromApp)).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(await call('removeComputer', { username: '../../etc' }, fromApp)).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect((await controller.getState()).computers.map((computer) => computer.username)).toEqual(['anna']);
    expect(bugs).toEqual([]);
    stop();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('passes the controller’s events to the window', async () => {
    const { controller } = await openController();
    const sent: unknown[] = [];
    const stop = forwardEvents(controller, (event, payload) => sent.push([event, payload]));
    controller.emit('notification', { title: 't', body: 'b' });
    stop();
    controller.emit('notification', { title: 'after', body: 'stop' });
    expect(sent).toEqual([['notification', { title: 't', body: 'b' }]]);
  });
});
