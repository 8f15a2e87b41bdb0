import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UserError } from '../../../../main/control/core/errors.js';
import { openController, openServing, waitForState } from '../../../helpers/controller.js';
import { addUser, basic } from '../../../helpers/htpasswd.js';
import { code, del, makeObject, post, run } from '../../../helpers/http.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const get = (path: string, headers: Record<string, string>) => ({ method: 'GET', path, headers });

describe('computers and their logins, as the running server sees them', () => {
  it('a new computer can log in at once, only to its own repository, and its password is nowhere in the settings', async () => {
    const { controller, configDir, url } = await openServing();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const bob = await controller.addComputer({ displayName: 'Bob' });
    await run(url, [
      { req: post('/anna/?create=true', '', basic('anna', anna.password)), want: [code(200)] },
      { req: post('/bob/?create=true', '', basic('bob', bob.password)), want: [code(200)] },
      { req: get('/bob/config', basic('anna', anna.password)), want: [code(403)] },
      { req: get('/anna/config', basic('anna', 'wrong password')), want: [code(401)] },
    ]);
    const settings = readFileSync(join(configDir, 'settings.json'), 'utf8');
    expect(settings).not.toContain(anna.password);
    expect(readFileSync(join(configDir, 'htpasswd'), 'utf8')).not.toContain(anna.password);
  });

  it('removing a computer locks it out at once and keeps its backups; a reset password replaces the old one', async () => {
    const { controller, url, data } = await openServing();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    // Logged in, the repository has no config yet: 404, not 401.
    await run(url, [{ req: post('/anna/?create=true', '', basic('anna', anna.password)), want: [code(200)] }]);
    const reset = await controller.resetPassword({ username: 'anna' });
    expect(reset.password).not.toBe(anna.password);
    await run(url, [
      { req: get('/anna/config', basic('anna', anna.password)), want: [code(401)] },
      { req: get('/anna/config', basic('anna', reset.password)), want: [code(404)] },
    ]);
    const state = await controller.removeComputer({ username: 'anna' });
    expect(state.computers).toEqual([]);
    await run(url, [{ req: get('/anna/config', basic('anna', reset.password)), want: [code(401)] }]);
    expect(existsSync(join(data, 'anna', 'data'))).toBe(true);
  });

  it('append-only per computer and for all, changed while serving; the maintenance login may prune', async () => {
    const { controller, url } = await openServing();
    const anna = await controller.addComputer({ displayName: 'Anna', appendOnly: true });
    const auth = basic('anna', anna.password);
    const objects = Array.from({ length: 3 }, () => makeObject());
    await run(url, [
      { req: post('/anna/?create=true', '', auth), want: [code(200)] },
      ...objects.map(({ id, data }) => ({ req: post(`/anna/data/${id}`, data, auth), want: [code(200)] })),
      { req: { ...del(`/anna/data/${objects[0]?.id}`), headers: auth }, want: [code(403)] },
    ]);
    await controller.updateComputer({ username: 'anna', appendOnly: false });
    await run(url, [{ req: { ...del(`/anna/data/${objects[0]?.id}`), headers: auth }, want: [code(200)] }]);

    const all = await controller.updateSettings({ appendOnly: true });
    expect(all.computers[0]?.appendOnly).toBe(true);
    await run(url, [{ req: { ...del(`/anna/data/${objects[1]?.id}`), headers: auth }, want: [code(403)] }]);
    const maintenance = await controller.createMaintenanceLogin();
    expect(maintenance.username).toBe('maintenance');
    expect((await controller.getState()).maintenanceUser).toBe('maintenance');
    await run(url, [{ req: { ...del(`/anna/data/${objects[1]?.id}`), headers: basic('maintenance', maintenance.password) }, want: [code(200)] }]);
    await controller.removeMaintenanceLogin();
    await run(url, [{ req: { ...del(`/anna/data/${objects[2]?.id}`), headers: basic('maintenance', maintenance.password) }, want: [code(401)] }]);
  });

  it('a computer’s own switch works while the old “append-only for every computer” is on: only that computer may delete', async () => {
    const { controller, url } = await openServing();
    await controller.updateSettings({ appendOnly: true });
    const anna = await controller.addComputer({ displayName: 'Anna', appendOnly: false });
    const bob = await controller.addComputer({ displayName: 'Bob', appendOnly: false });
    const objects = { anna: makeObject(), bob: makeObject() };
    for (const [name, login] of [['anna', anna], ['bob', bob]] as const) {
      const auth = basic(name, login.password);
      await run(url, [
        { req: post(`/${name}/?create=true`, '', auth), want: [code(200)] },
        { req: post(`/${name}/data/${objects[name].id}`, objects[name].data, auth), want: [code(200)] },
      ]);
    }
    expect((await controller.getState()).computers.map((computer) => computer.appendOnly)).toEqual([true, true]);

    const state = await controller.updateComputer({ username: 'anna', appendOnly: false });
    expect(state.computers.map((computer) => [computer.username, computer.appendOnly])).toEqual([
      ['anna', false],
      ['bob', true],
    ]);
    expect(state.settings.appendOnly).toBe(false);
    await run(url, [
      { req: { ...del(`/anna/data/${objects.anna.id}`), headers: basic('anna', anna.password) }, want: [code(200)] },
      { req: { ...del(`/bob/data/${objects.bob.id}`), headers: basic('bob', bob.password) }, want: [code(403)] },
    ]);
  });

  it('a quota set while serving applies to the next upload', async () => {
    const { controller, url } = await openServing();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const auth = basic('anna', anna.password);
    await run(url, [{ req: post('/anna/?create=true', '', auth), want: [code(200)] }]);
    await controller.updateComputer({ username: 'anna', quotaBytes: 100_000 });
    await waitForState(controller, (s) => s.status === 'serving' && s.computers[0]?.quotaBytes === 100_000);
    const small = makeObject(50_000);
    const big = makeObject(80_000);
    await run(url, [
      { req: post(`/anna/data/${small.id}`, small.data, auth), want: [code(200)] },
      { req: post(`/anna/data/${big.id}`, big.data, auth), want: [code(507)] },
    ]);
  });

  it('renames, and refuses what makes no sense with a message that says what to do', async () => {
    const { controller } = await openServing();
    await controller.addComputer({ displayName: 'Anna' });
    expect((await controller.renameComputer({ username: 'anna', displayName: "Anna's new laptop" })).computers[0]?.displayName).toBe("Anna's new laptop");
    const failure = async (promise: Promise<unknown>) => promise.then(() => 'accepted', (error: UserError) => `${error.code}: ${error.message}`);
    expect(await failure(controller.renameComputer({ username: 'nobody', displayName: 'x' }))).toBe('unknown-computer: There is no computer with the login nobody.');
    const state = await controller.getState();
    expect(await failure(controller.forgetDisk({ diskId: state.disks[0]?.id as string }))).toMatch(/^disk-in-use: /);
    expect(await failure(controller.chooseFolder({ path: '/' }))).toMatch(/^folder-is-root: /);
    expect(await failure(controller.updateSettings({ listenAddresses: ['203.0.113.9'] }))).toMatch(/^unknown-address: 203\.0\.113\.9 is not an address of this computer/);
  });

  it('refuses a second computer of the same name (case and spaces do not count), also by renaming', async () => {
    const { controller } = await openServing();
    await controller.addComputer({ displayName: "Anna's laptop" });
    const failure = async (promise: Promise<unknown>) => promise.then(() => 'accepted', (error: UserError) => `${error.code}: ${error.message}`);
    for (const displayName of ["Anna's laptop", "anna's  LAPTOP", " Anna's laptop "]) {
      expect(await failure(controller.addComputer({ displayName }))).toMatch(/^name-taken: There is already a computer called “Anna's laptop”\. Give this one another name/);
    }
    await controller.addComputer({ displayName: 'Kitchen' });
    expect(await failure(controller.renameComputer({ username: 'kitchen', displayName: "ANNA'S LAPTOP" }))).toMatch(/^name-taken: /);
    expect(await failure(controller.renameComputer({ username: 'annas-laptop', displayName: "Anna's Laptop" }))).toBe('accepted');
    const names = (await controller.getState()).computers.map((computer) => `${computer.username} ${computer.displayName}`);
    expect(names).toEqual(["annas-laptop Anna's Laptop", 'kitchen Kitchen']);
    // A name that would be a restic folder gets a login restic can use.
    const data = await controller.addComputer({ displayName: 'Data' });
    expect(data.username).toBe('data-2');
  });

  it('a damaged login file is reported, the intact logins keep working, and a copy is kept before it is rewritten', async () => {
    const data = tempDir('rts-data-');
    const { controller, configDir } = await openServing({ path: data });
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

  it('a computer called “Maintenance” gets a login of its own, append-only, never the maintenance login', async () => {
    const { controller, url } = await openServing();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const computer = await controller.addComputer({ displayName: 'Maintenance', appendOnly: true });
    expect(computer.username).toBe('maintenance-2');
    expect((await controller.getState()).maintenanceUser).toBeNull();
    const maintenance = await controller.createMaintenanceLogin();
    expect(maintenance.username).toBe('maintenance');
    const snapshot = makeObject();
    await run(url, [
      { req: post('/anna/?create=true', '', basic('anna', anna.password)), want: [code(200)] },
      { req: post(`/anna/snapshots/${snapshot.id}`, snapshot.data, basic('anna', anna.password)), want: [code(200)] },
      { req: { ...del(`/anna/snapshots/${snapshot.id}`), headers: basic(computer.username, computer.password) }, want: [code(403)] },
      { req: { ...del(`/anna/snapshots/${snapshot.id}`), headers: basic('maintenance', maintenance.password) }, want: [code(200)] },
    ]);
  });

  it('after settings.json is damaged, a recovered login called “maintenance” is an append-only computer; the recorded maintenance login keeps its rights', async () => {
    const data = tempDir('rts-data-');
    const { controller, configDir, url } = await openServing({ path: data });
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const snapshots = [makeObject(), makeObject()];
    await run(url, [
      { req: post('/anna/?create=true', '', basic('anna', anna.password)), want: [code(200)] },
      ...snapshots.map(({ id, data: body }) => ({ req: post(`/anna/snapshots/${id}`, body, basic('anna', anna.password)), want: [code(200)] })),
    ]);
    await controller.close();
    // An older version named a computer called “Maintenance” `maintenance`.
    const settingsFile = join(configDir, 'settings.json');
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8'));
    settings.computers.push({ username: 'maintenance', displayName: 'Maintenance', appendOnly: true, quotaBytes: null, createdAt: new Date().toISOString() });
    writeFileSync(settingsFile, JSON.stringify(settings));
    addUser(join(configDir, 'htpasswd'), 'maintenance', 'the computer called Maintenance');
    const { controller: before } = await openController({ configDir });
    const maintenance = await before.createMaintenanceLogin();
    expect(maintenance.username).toBe('maintenance-2');
    await before.close();

    writeFileSync(settingsFile, '{"version": 1, "computers": [');
    const { controller: after, url: served } = await openServing({ configDir, path: data });
    const recovered = basic('maintenance', 'the computer called Maintenance');
    await run(served, [
      { req: { ...del(`/anna/snapshots/${snapshots[0]?.id}`), headers: recovered }, want: [code(403)] },
      { req: post('/maintenance/?create=true', '', recovered), want: [code(200)] },
      { req: post(`/maintenance/snapshots/${snapshots[1]?.id}`, snapshots[1]?.data, recovered), want: [code(200)] },
      { req: { ...del(`/maintenance/snapshots/${snapshots[1]?.id}`), headers: recovered }, want: [code(403)] },
      { req: { ...del(`/anna/snapshots/${snapshots[0]?.id}`), headers: basic('maintenance-2', maintenance.password) }, want: [code(200)] },
    ]);
    const state = await after.getState();
    expect(state.maintenanceUser).toBe('maintenance-2');
    expect(state.computers.find((computer) => computer.username === 'maintenance')?.appendOnly).toBe(true);
    expect(state.notices.map((notice) => notice.message).join('\n')).toMatch(/kept as append-only computers: anna, maintenance\. They can add backups to their own folder but not delete any/);
    expect(statSync(join(configDir, 'maintenance-login.json')).mode & 0o777).toBe(0o600);
  });

  it('a maintenance login made by an older version, which kept it only in settings.json, is recorded and survives a settings reset', async () => {
    const data = tempDir('rts-data-');
    const { controller, configDir } = await openServing({ path: data });
    const maintenance = await controller.createMaintenanceLogin();
    await controller.close();
    rmSync(join(configDir, 'maintenance-login.json'));
    const { controller: upgraded } = await openController({ configDir });
    expect((await upgraded.getState()).maintenanceUser).toBe('maintenance');
    await upgraded.close();

    writeFileSync(join(configDir, 'settings.json'), 'not json');
    const { controller: reset, url } = await openServing({ configDir, path: data });
    expect((await reset.getState()).maintenanceUser).toBe('maintenance');
    await run(url, [{ req: post('/anna/?create=true', '', basic('maintenance', maintenance.password)), want: [code(200)] }]);
  });

  it('a damaged record of the maintenance login gives nobody maintenance rights, and says so', async () => {
    const data = tempDir('rts-data-');
    const { controller, configDir } = await openServing({ path: data });
    await controller.createMaintenanceLogin();
    await controller.close();
    writeFileSync(join(configDir, 'maintenance-login.json'), '{"version": 1, "username": "maint');
    writeFileSync(join(configDir, 'settings.json'), 'not json');
    const { controller: reopened } = await openController({ configDir });
    const state = await reopened.getState();
    expect(state.maintenanceUser).toBeNull();
    expect(state.computers.map((computer) => `${computer.username} ${computer.appendOnly}`)).toEqual(['maintenance true']);
    expect(state.notices.map((notice) => notice.message).join('\n')).toMatch(/record of the maintenance login .*maintenance-login\.json is damaged \(not valid JSON .*\)\. No login was given maintenance rights from it/);
  });
});
