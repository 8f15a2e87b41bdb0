import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppState, Summary } from '../../../../main/contract.js';
import { KEY_FILE } from '../../../../main/control/core/keychain.js';
import { STORE_FILE } from '../../../../main/control/caretaker/kept-passwords.js';
import { SETTINGS_FILE } from '../../../../main/control/core/settings.js';
import { backedUpLaptop, servingController } from '../../../helpers/client-computer.js';
import { openController } from '../../../helpers/controller.js';
import { RESTIC_PASSWORD, resticOk } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

const WRONG_PASSWORD = 'not the password of these backups';

/** Every file under a folder, with its content. */
function filesUnder(folder: string): { path: string; content: Buffer }[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ path, content: readFileSync(path) }));
}

describe.runIf(hasTool('restic'))('the caretaker keeps encryption passwords, checked by real restic on the disk', () => {
  it('a backup made through the server: a wrong password refused in words, the right one kept, shown and forgotten; the password is in no log, state, setting or file in clear', { timeout: 180_000 }, async () => {
    const { controller, configDir } = await servingController();
    const states: AppState[] = [];
    const summaries: Summary[] = [];
    controller.on('state', (state) => states.push(state));
    controller.on('summary', (summary) => summaries.push(summary));
    const { anna } = await backedUpLaptop(controller, 2, 1 << 16);

    const before = await controller.getState();
    expect(before.caretaker.restic).toEqual({ path: expect.stringMatching(/restic$/), version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(before.caretaker).toMatchObject({ problem: null, keptPasswords: [], passwordLock: 'key-file', resticPath: null });

    await expect(controller.keepPassword({ username: anna.username, password: WRONG_PASSWORD })).rejects.toMatchObject({
      code: 'wrong-password',
      message: 'This password does not open Anna\'s laptop’s backups.',
    });
    expect((await controller.getState()).caretaker.keptPasswords).toEqual([]);

    const kept = await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    expect(kept.caretaker.keptPasswords).toEqual([anna.username]);
    expect(await controller.showPassword({ username: anna.username })).toEqual({ password: RESTIC_PASSWORD });

    // The store and its key: this account's only, and the password not in clear.
    const store = join(configDir, STORE_FILE);
    expect(statSync(store).mode & 0o777).toBe(0o600);
    expect(statSync(join(configDir, KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(store, 'utf8')).toContain(anna.username);

    const log = summaries.map((summary) => summary.message).join('\n');
    expect(log).toContain('Checking the encryption password of Anna\'s laptop: it did not work, the password does not open these backups.');
    expect(log).toContain('Checking the encryption password of Anna\'s laptop: done.');
    expect(log).toContain('The kept encryption password of Anna\'s laptop was shown.');

    const forgotten = await controller.forgetPassword({ username: anna.username });
    expect(forgotten.caretaker.keptPasswords).toEqual([]);
    await expect(controller.showPassword({ username: anna.username })).rejects.toMatchObject({ code: 'not-kept' });
    expect(readFileSync(store, 'utf8')).not.toContain(anna.username);

    // Neither password anywhere: the config folder (settings, store, key, restic's cache), the live log, the state events, the request log.
    const published = JSON.stringify([states, summaries, await controller.recentSummaries(), await controller.recentRequests({}), await controller.getState()]);
    expect(states.length).toBeGreaterThan(0);
    for (const secret of [RESTIC_PASSWORD, WRONG_PASSWORD]) {
      expect(published).not.toContain(secret);
      expect(filesUnder(configDir).filter((file) => file.content.includes(secret)).map((file) => file.path)).toEqual([]);
    }
    expect(filesUnder(configDir).map((file) => file.path)).toContain(join(configDir, SETTINGS_FILE));
  });

  it('refuses in words: a computer with no backups yet, an unknown computer, restic that is not there or not restic', { timeout: 60_000 }, async () => {
    const { controller, configDir } = await openController();
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    const bea = await controller.addComputer({ displayName: 'Bea’s desktop' });
    await expect(controller.keepPassword({ username: bea.username, password: RESTIC_PASSWORD })).rejects.toMatchObject({
      code: 'no-backups',
      message: expect.stringMatching(/^Bea’s desktop has no backups on “.+” yet: keep its password after its first backup\.$/),
    });
    await expect(controller.keepPassword({ username: 'nobody', password: RESTIC_PASSWORD })).rejects.toMatchObject({ code: 'not-found' });
    await expect(controller.setResticPath({ path: '/nonexistent/restic' })).rejects.toMatchObject({ code: 'no-restic', message: 'There is no program that can be run at /nonexistent/restic.' });
    await expect(controller.setResticPath({ path: '/bin/true' })).rejects.toMatchObject({ code: 'not-restic', message: '/bin/true does not answer as restic does: give the path of the restic program.' });

    // restic at a path of its own, then gone: the state says so, with the command that installs it.
    const own = join(tempDir('rts-restic-bin-'), 'restic');
    copyFileSync('/usr/bin/restic', own);
    const set = await controller.setResticPath({ path: own });
    expect(set.caretaker).toMatchObject({ resticPath: own, restic: { path: own }, problem: null });
    expect(JSON.parse(readFileSync(join(configDir, SETTINGS_FILE), 'utf8'))).toMatchObject({ resticPath: own });
    unlinkSync(own);
    await resticOk(join((await controller.getState()).storage?.folder ?? '', bea.username), ['init']);
    await expect(controller.keepPassword({ username: bea.username, password: RESTIC_PASSWORD })).rejects.toMatchObject({
      code: 'no-restic',
      message: `There is no restic program at ${own}. Install restic with your package manager (on Debian or Ubuntu: sudo apt install restic), or give the path of the restic program in Settings.`,
    });
    expect((await controller.getState()).caretaker).toMatchObject({ restic: null, problem: expect.stringContaining('sudo apt install restic') });
    const back = await controller.setResticPath({ path: null });
    expect(back.caretaker).toMatchObject({ resticPath: null, problem: null });
    expect((await controller.keepPassword({ username: bea.username, password: RESTIC_PASSWORD })).caretaker.keptPasswords).toEqual([bea.username]);
  });
});

describe.runIf(hasTool('restic'))('the kept passwords’ store across restarts', () => {
  it('keeps a password after the app restarts; a changed key or a damaged store is said in words, never as a crash', { timeout: 60_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const first = await openController({ configDir });
    const data = tempDir('rts-data-');
    await first.controller.chooseFolder({ path: data });
    const anna = await first.controller.addComputer({ displayName: "Anna's laptop" });
    await resticOk(join(data, anna.username), ['init']);
    await first.controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    await first.controller.close();

    const second = await openController({ configDir });
    expect((await second.controller.getState()).caretaker.keptPasswords).toEqual([anna.username]);
    expect(await second.controller.showPassword({ username: anna.username })).toEqual({ password: RESTIC_PASSWORD });
    await second.controller.close();

    // Another key file (say, the config folder restored without it): the password cannot be unlocked, and the page says what to do.
    writeFileSync(join(configDir, KEY_FILE), randomBytes(32), { mode: 0o600 });
    const third = await openController({ configDir });
    await expect(third.controller.showPassword({ username: anna.username })).rejects.toMatchObject({
      code: 'cannot-unlock',
      message: 'The kept password cannot be unlocked: the key file in the app’s folder changed since it was kept. Keep the password again.',
    });
    await third.controller.close();

    writeFileSync(join(configDir, STORE_FILE), '{ "version": 1, "computers": { "annas-laptop": ');
    const fourth = await openController({ configDir });
    const state = await fourth.controller.getState();
    expect(state.caretaker.keptPasswords).toEqual([]);
    expect(state.notices.map((notice) => notice.message)).toEqual([
      expect.stringMatching(/^The file of kept encryption passwords was damaged\. It was kept as .*kept-passwords\.json\.damaged-.*; keep each computer's password again on its page\.$/),
    ]);
    expect(readdirSync(configDir).filter((name) => name.startsWith(`${STORE_FILE}.damaged-`))).toHaveLength(1);
  });
});

/** The usernames the store on disk holds a sealed password for. */
const storedFor = (configDir: string): string[] => Object.keys((JSON.parse(readFileSync(join(configDir, STORE_FILE), 'utf8')) as { computers: Record<string, unknown> }).computers);

describe.runIf(hasTool('restic'))('a removed computer’s kept password', () => {
  it('is forgotten with it: gone from the store on disk, not back after a restart nor for a computer added again under the same name; the others’ stay; the backups stay on the disk', { timeout: 60_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const { controller } = await openController({ configDir });
    const data = tempDir('rts-data-');
    await controller.chooseFolder({ path: data });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const bea = await controller.addComputer({ displayName: 'Bea’s desktop' });
    for (const username of [anna.username, bea.username]) {
      await resticOk(join(data, username), ['init']);
      await controller.keepPassword({ username, password: RESTIC_PASSWORD });
    }
    expect(storedFor(configDir)).toEqual([anna.username, bea.username]);

    const removed = await controller.removeComputer({ username: anna.username });
    expect(removed.caretaker.keptPasswords).toEqual([bea.username]);
    expect(storedFor(configDir)).toEqual([bea.username]);
    expect(existsSync(join(data, anna.username, 'config'))).toBe(true);
    const log = await controller.recentSummaries();
    expect(log.map((summary) => summary.message)).toContain("The kept encryption password of Anna's laptop was forgotten with it.");
    expect(JSON.stringify(log)).not.toContain(RESTIC_PASSWORD);

    // The same name gives the same login name: that computer starts with no password kept.
    const again = await controller.addComputer({ displayName: "Anna's laptop" });
    expect(again.username).toBe(anna.username);
    expect((await controller.getState()).caretaker.keptPasswords).toEqual([bea.username]);
    await expect(controller.showPassword({ username: again.username })).rejects.toMatchObject({ code: 'not-kept' });
    await controller.close();

    const second = await openController({ configDir });
    expect((await second.controller.getState()).caretaker.keptPasswords).toEqual([bea.username]);
    await expect(second.controller.showPassword({ username: anna.username })).rejects.toMatchObject({ code: 'not-kept' });
    expect(await second.controller.showPassword({ username: bea.username })).toEqual({ password: RESTIC_PASSWORD });
  });

  it('a store that cannot be written: the computer is removed all the same, and a notice says the password stays and how to forget it, without the password', { timeout: 60_000 }, async () => {
    const { controller, configDir } = await openController();
    const data = tempDir('rts-data-');
    await controller.chooseFolder({ path: data });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    await resticOk(join(data, anna.username), ['init']);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    // A folder where the store's file was: its new version cannot be renamed into place.
    const store = join(configDir, STORE_FILE);
    rmSync(store);
    mkdirSync(join(store, 'in-the-way'), { recursive: true });

    const removed = await controller.removeComputer({ username: anna.username });
    expect(removed.computers).toEqual([]);
    const notice = removed.notices.map((one) => one.message);
    expect(notice).toEqual([
      expect.stringMatching(
        /^The encryption password kept for Anna's laptop could not be forgotten as it was removed \(.+\): it stays on this desktop, locked\. To forget it, add a computer called “Anna's laptop” again and use “Forget the kept password…” on its page\.$/,
      ),
    ]);
    const log = await controller.recentSummaries();
    expect(log).toContainEqual(expect.objectContaining({ message: notice[0], severity: 'warning' }));
    expect(JSON.stringify([removed, log])).not.toContain(RESTIC_PASSWORD);

    // As the notice says: the folder can be written again, the computer added again, its password forgotten there.
    rmSync(store, { recursive: true });
    const again = await controller.addComputer({ displayName: "Anna's laptop" });
    expect((await controller.getState()).caretaker.keptPasswords).toEqual([again.username]);
    expect((await controller.forgetPassword({ username: again.username })).caretaker.keptPasswords).toEqual([]);
    expect(storedFor(configDir)).toEqual([]);
  });
});
