import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../../../main/contract.js';
import { listDrives } from '../../../../main/control/disks/drives.js';
import type { UserError } from '../../../../main/control/core/errors.js';
import { freePort, openController, openServing, waitForState } from '../../../helpers/controller.js';
import { basic } from '../../../helpers/htpasswd.js';
import { code, del, makeObject, post, run } from '../../../helpers/http.js';
import { FakeUsbDisk, mountDiskImage } from '../../../helpers/tmpfs.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { canMount } from '../../../helpers/tools.js';

describe('the backup folder and its disks', () => {
  it('choosing the config folder itself for backups is refused', async () => {
    const { controller, configDir } = await openController();
    const refused = await controller.chooseFolder({ path: configDir }).catch((error: UserError) => error.code);
    expect(refused).toBe('folder-is-config');
  });

  it('safe eject stops serving after the last upload and says the disk may go; start serves again', async () => {
    const { controller, url } = await openServing();
    const notifications: Notification[] = [];
    controller.on('notification', (notification) => notifications.push(notification));
    const ejected = await controller.ejectDisk();
    expect(ejected).toEqual({ safe: true, message: `It is now safe to unplug “${(await controller.getState()).disks[0]?.label}”: the server stopped after the last upload. Press Start when the disk is back.` });
    expect((await controller.getState()).status).toBe('stopped');
    await expect(fetch(`${url}/config`)).rejects.toThrow();
    await controller.startServer();
    await waitForState(controller, (s) => s.status === 'serving');
    expect(notifications).toEqual([]);
  });

  it.runIf(canMount())('an unplugged disk turns the state red with the reason, and the same disk coming back resumes', async () => {
    const disk = new FakeUsbDisk(32);
    const { controller, url } = await openServing({ path: disk.mountPoint });
    const notifications: Notification[] = [];
    controller.on('notification', (notification) => notifications.push(notification));
    const { id, data } = makeObject();
    await run(url, [{ req: post('/x/?create=true'), want: [code(401)] }]);
    const { username, password } = await controller.addComputer({ displayName: 'Gus' });
    const auth = basic(username, password);
    await run(url, [
      { req: post(`/${username}/?create=true`, '', auth), want: [code(200)] },
      { req: post(`/${username}/data/${id}`, data, auth), want: [code(200)] },
    ]);

    disk.unplug();
    const missing = await waitForState(controller, (s) => s.status === 'disk-missing');
    expect(missing.colour).toBe('red');
    expect(missing.sentence).toBe(`The backup disk “usb” is not connected. Plug it in: backups resume by themselves.`);
    expect(missing.disks[0]?.present).toBe(false);
    await run(url, [{ req: post(`/${username}/data/${makeObject().id}`, 'x', auth), want: [code(503)] }]);
    expect(existsSync(join(disk.mountPoint, username))).toBe(false);

    disk.plug();
    const back = await waitForState(controller, (s) => s.status === 'serving');
    expect(back.colour).toBe('green');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(notifications).toEqual([
      { title: 'Backups need you', body: missing.sentence },
      { title: 'Backups work again', body: expect.stringMatching(/^Serving backups at http:\/\/127\.0\.0\.2:\d+\/; 1 computer not connected yet\.$/) },
    ]);
    await run(url, [{ req: { method: 'GET', path: `/${username}/data/${id}`, headers: auth }, want: [code(200)] }]);
  });

  it.runIf(canMount())('a full disk turns the state red, and freeing space turns it green again', async () => {
    const disk = new FakeUsbDisk(8);
    const { controller, url } = await openServing({ path: disk.mountPoint });
    const { username, password } = await controller.addComputer({ displayName: 'Hugo', appendOnly: false });
    const auth = basic(username, password);
    await run(url, [{ req: post(`/${username}/?create=true`, '', auth), want: [code(200)] }]);
    const stored: string[] = [];
    for (;;) {
      const { id, data } = makeObject(1 << 20);
      const [answer] = await run(url, [{ req: post(`/${username}/data/${id}`, data, auth), want: [] }]);
      if (answer?.status === 507) break;
      expect(answer?.status).toBe(200);
      stored.push(id);
    }
    const full = await waitForState(controller, (s) => s.colour === 'red');
    expect(full.status).toBe('attention');
    expect(full.sentence).toMatch(/^The backup disk is full \(.* free\): backups fail\./);
    expect(full.reasons[0]?.key).toBe('disk-full');

    await run(url, stored.slice(0, 3).map((id) => ({ req: { ...del(`/${username}/data/${id}`), headers: auth }, want: [code(200)] })));
    const freed = await waitForState(controller, (s) => s.colour === 'green');
    expect(freed.status).toBe('serving');
  });

  it.runIf(canMount())('rotating disks: whichever known disk is plugged in is served', async () => {
    const first = new FakeUsbDisk(16);
    const second = new FakeUsbDisk(16);
    const { controller } = await openServing({ path: first.mountPoint });
    await controller.chooseFolder({ path: second.mountPoint, label: 'Offsite' });
    let state = await waitForState(controller, (s) => s.status === 'serving' && s.disks.find((d) => d.current)?.label === 'Offsite');
    expect(state.disks.map((d) => [d.label, d.present])).toEqual([
      ['usb', true],
      ['Offsite', true],
    ]);

    second.unplug();
    first.unplug();
    await waitForState(controller, (s) => s.status === 'disk-missing');
    first.plug();
    state = await waitForState(controller, (s) => s.status === 'serving' && s.disks.find((d) => d.current)?.label === 'usb');
    expect(state.storage?.folder).toBe(first.mountPoint);
  });
});

describe.runIf(canMount())('a second disk on this machine', () => {
  it('is listed with its size and file system, and the storage view shows them when it is chosen', async () => {
    const mountPoint = mountDiskImage('FAMILY');
    const disk = (await listDrives()).find((drive) => drive.mountPoint === mountPoint);
    expect(disk).toMatchObject({ label: 'FAMILY', fileSystem: 'ext4', network: false, system: false, warnings: [] });
    expect(disk?.device).toMatch(/^\/dev\/loop\d+$/);
    expect(disk?.totalBytes).toBeGreaterThan(20e6);

    const { controller } = await openController();
    await controller.setTls({ enabled: false });
    await controller.chooseFolder({ path: mountPoint });
    await controller.updateSettings({ port: await freePort() });
    const state = await controller.startServer();
    expect(state.storage).toMatchObject({ folder: mountPoint, label: 'FAMILY', fileSystem: 'ext4', warnings: [] });
    expect(state.storage?.freeBytes).toBeGreaterThan(10e6);
    expect(state.disks).toMatchObject([{ label: 'FAMILY', present: true, current: true }]);
  });

  it('tells which drive a browsed folder is on: the disk image, the system disk, or none for a tmpfs', async () => {
    const mountPoint = mountDiskImage('SPARE');
    const { controller } = await openController();
    expect((await controller.browseFolder({ path: mountPoint })).drive).toMatchObject({ label: 'SPARE', system: false });
    expect((await controller.browseFolder({ path: tempDir() })).drive).toMatchObject({ mountPoint: '/', system: true });
    expect((await controller.browseFolder({ path: new FakeUsbDisk(4).mountPoint })).drive).toBeNull();
    expect(await controller.browseFolder({ path: homedir() })).toMatchObject({ home: true });
    expect(await controller.createFolder({ parent: mountPoint, name: 'backups' })).toMatchObject({ path: join(mountPoint, 'backups'), home: false, drive: { label: 'SPARE' } });
  });
});
