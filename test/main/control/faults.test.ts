import { existsSync, readdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../../main/contract.js';
import { freePort, openController, waitForState } from '../../helpers/controller.js';
import { basic } from '../../helpers/htpasswd.js';
import { code, del, makeObject, post, run } from '../../helpers/http.js';
import { FakeUsbDisk } from '../../helpers/tmpfs.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { canMount } from '../../helpers/tools.js';

/** Plain HTTP keeps these tests about the state, not TLS. */
async function serving(path: string, configDir?: string) {
  const opened = await openController({ configDir });
  await opened.controller.setTls({ enabled: false });
  await opened.controller.chooseFolder({ path });
  await opened.controller.updateSettings({ port: await freePort() });
  await opened.controller.startServer();
  const state = await waitForState(opened.controller, (s) => s.status === 'serving');
  return { ...opened, url: (state.clientUrl as string).replace(/\/$/, '') };
}

describe('damaged files, busy ports and missing disks', () => {
  it('a damaged settings file is kept aside, the defaults are used, and the logins come back as computers', async () => {
    const { controller, configDir } = await serving(tempDir('rts-data-'));
    const { username } = await controller.addComputer({ displayName: 'Dora' });
    await controller.close();
    writeFileSync(join(configDir, 'settings.json'), '{"version": 1, "port": "eighty"');

    const { controller: reopened } = await openController({ configDir });
    const state = await reopened.getState();
    expect(state.status).toBe('stopped');
    expect(state.notices.map((notice) => notice.message).join('\n')).toMatch(/settings file was damaged .* kept as .*settings\.json\.damaged-/);
    const aside = readdirSync(configDir).find((name) => name.startsWith('settings.json.damaged-')) as string;
    expect(readFileSync(join(configDir, aside), 'utf8')).toBe('{"version": 1, "port": "eighty"');
    expect(state.computers.map((computer) => computer.username)).toEqual([username]);
    expect(JSON.parse(readFileSync(join(configDir, 'settings.json'), 'utf8')).computers[0].username).toBe(username);
  });

  it('a damaged login file is reported, the intact logins keep working, and a copy is kept before it is rewritten', async () => {
    const data = tempDir('rts-data-');
    const { controller, configDir } = await serving(data);
    const { username, password } = await controller.addComputer({ displayName: 'Emil' });
    await controller.close();
    appendFileSync(join(configDir, 'htpasswd'), 'this line is not a login\n');

    const { controller: reopened } = await openController({ configDir });
    const notices = (await reopened.getState()).notices.map((notice) => notice.message).join('\n');
    expect(notices).toMatch(/login file .*htpasswd is damaged/);
    await reopened.startServer();
    const state = await waitForState(reopened, (s) => s.status === 'serving');
    const url = (state.clientUrl as string).replace(/\/$/, '');
    await run(url, [{ req: post(`/${username}/?create=true`, '', basic(username, password)), want: [code(200)] }]);

    await reopened.addComputer({ displayName: 'Frida' });
    const copy = readdirSync(configDir).find((name) => name.startsWith('htpasswd.damaged-')) as string;
    expect(readFileSync(join(configDir, copy), 'utf8')).toContain('this line is not a login');
    await run(url, [{ req: { method: 'GET', path: `/${username}/config`, headers: basic(username, password) }, want: [code(404)] }]);
  });

  it('a port in use is an error state that says what to do, and a start after it is freed serves', async () => {
    const opened = await openController();
    const { controller } = opened;
    await controller.setTls({ enabled: false });
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    const port = await freePort();
    await controller.updateSettings({ port });
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', () => resolve()));
    await controller.startServer();
    const failed = await waitForState(controller, (s) => s.status === 'error');
    expect(failed.colour).toBe('red');
    expect(failed.sentence).toBe(
      `The backup server cannot run: Port ${port} is already used by another program (another backup server?). Stop that program, or choose another port for this server.`,
    );
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await controller.startServer();
    await waitForState(controller, (s) => s.status === 'serving');
  });

  it.runIf(canMount())('an unplugged disk turns the state red with the reason, and the same disk coming back resumes', async () => {
    const disk = new FakeUsbDisk(32);
    const { controller, url } = await serving(disk.mountPoint);
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
      { title: 'Backups work again', body: expect.stringMatching(/^Serving backups at http:\/\/127\.0\.0\.2:\d+\/\. Add a computer|; every computer is up to date\.$/) },
    ]);
    await run(url, [{ req: { method: 'GET', path: `/${username}/data/${id}`, headers: auth }, want: [code(200)] }]);
  });

  it.runIf(canMount())('a full disk turns the state red, and freeing space turns it green again', async () => {
    const disk = new FakeUsbDisk(8);
    const { controller, url } = await serving(disk.mountPoint);
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
    const { controller } = await serving(first.mountPoint);
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
