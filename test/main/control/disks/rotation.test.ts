import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../../../main/contract.js';
import type { Controller } from '../../../../main/control/controller.js';
import { dispatch } from '../../../../main/control/core/dispatch.js';
import { freePort, openController, openServing, runBash, waitForState } from '../../../helpers/controller.js';
import { treeDigest } from '../../../helpers/restic.js';
import { FakeUsbDisk } from '../../../helpers/tmpfs.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { pathWithoutSchedulers, runInTerminal } from '../../../helpers/terminal.js';
import { canMount, hasTool } from '../../../helpers/tools.js';

const PASSWORD = 'a long family secret';

/** Serves the Home disk (household TLS, as after the set-up) and knows the Away disk, which is left unplugged. */
async function homeAndAway(configDir?: string) {
  const home = new FakeUsbDisk(64);
  const away = new FakeUsbDisk(64);
  const opened = await openController({ configDir });
  const { controller } = opened;
  await controller.chooseFolder({ path: away.mountPoint, label: 'Away disk' });
  await controller.chooseFolder({ path: home.mountPoint, label: 'Home disk' });
  await controller.updateSettings({ port: await freePort() });
  await controller.startServer();
  await waitForState(controller, (s) => s.status === 'serving' && s.storage?.label === 'Home disk');
  away.unplug();
  return { ...opened, home, away };
}

/** Swaps: `plug` goes in, `unplug` goes away; resolves once the server serves the disk named `label`. */
async function swap(controller: Controller, plug: FakeUsbDisk, unplug: FakeUsbDisk, label: string) {
  plug.plug();
  unplug.unplug();
  return waitForState(controller, (s) => s.status !== 'disk-missing' && s.status !== 'starting' && s.storage?.label === label, 30_000);
}

/** Anna's laptop connected by its line in a temp HOME with no scheduler: returns its home and how to run restic there as its command does. */
async function connectedLaptop(controller: Controller) {
  const anna = await controller.addComputer({ displayName: "Anna's laptop" });
  const home = tempDir('rts-anna-');
  const documents = join(home, 'Documents');
  mkdirSync(documents);
  writeFileSync(join(documents, 'letter.txt'), 'Dear grandma,\n');
  const connect = async () => {
    const { line } = await controller.connectComputer({ username: anna.username, os: 'linux' });
    return runInTerminal(line, home, [PASSWORD, PASSWORD, 'n'], `${join(home, '.local', 'bin')}:${pathWithoutSchedulers()}`);
  };
  const ran = await connect();
  expect(ran.code, ran.output).toBe(0);
  writeFileSync(join(home, '.config', 'restic-tray-server', 'paths'), `${documents}\n`);
  const dir = join(home, '.config', 'restic-tray-server');
  /** restic on the laptop with its settings (its login, the pinned authority, its cache in its home). */
  const shell = (command: string) =>
    runBash(`. '${dir}/settings'; export RESTIC_REPOSITORY_FILE RESTIC_PASSWORD_FILE; ${command}`, { HOME: home, RESTIC_CACHE_DIR: join(home, '.cache', 'restic') });
  const backup = () => runBash(`'${join(home, '.local', 'bin', 'restic-tray-backup')}' backup`, { HOME: home, RESTIC_CACHE_DIR: join(home, '.cache', 'restic') });
  const restore = async () => {
    const target = tempDir('rts-restore-');
    const result = await shell(`restic --cacert '${dir}/ca.pem' restore latest --target '${target}'`);
    expect(result.code, result.stderr).toBe(0);
    return treeDigest(join(target, documents));
  };
  return { anna, home, documents, connect, shell, backup, restore };
}

const repoFiles = (root: string, repo: string, type: string): string[] => readdirSync(join(root, repo, type)).sort();
const folderBytes = (folder: string): number =>
  readdirSync(folder, { withFileTypes: true }).reduce((sum, entry) => sum + (entry.isDirectory() ? folderBytes(join(folder, entry.name)) : statSync(join(folder, entry.name)).size), 0);
/** restic on this desktop, straight on the disk (the local backend), with Anna's password. */
const check = (root: string, repo: string) => runBash(`restic --no-cache -r '${join(root, repo)}' check --read-data`, { RESTIC_PASSWORD: PASSWORD });

describe.runIf(canMount() && hasTool('restic') && hasTool('curl') && hasTool('script'))('disks that take turns, with a computer connected by its line', () => {
  it('the Away disk gets Anna’s repository (same config and keys, no password asked): her backups go on to whichever disk is in, restores come from each, dedup holds per disk, and check --read-data passes on both', { timeout: 300_000 }, async () => {
    const { controller, home, away } = await homeAndAway();
    const laptop = await connectedLaptop(controller);
    const repo = laptop.anna.username;
    expect(existsSync(join(away.mountPoint, repo))).toBe(false);
    const config = readFileSync(join(home.mountPoint, repo, 'config'));
    const keys = repoFiles(home.mountPoint, repo, 'keys');

    let state = await swap(controller, away, home, 'Away disk');
    // Laid out before the server answered anyone: the same identity, restic's empty folders, no data.
    expect(readFileSync(join(away.mountPoint, repo, 'config'))).toEqual(config);
    expect(repoFiles(away.mountPoint, repo, 'keys')).toEqual(keys);
    expect(readdirSync(join(away.mountPoint, repo, 'data'))).toHaveLength(256);
    expect(repoFiles(away.mountPoint, repo, 'snapshots')).toEqual([]);
    expect(state.sentence).not.toMatch(/cannot back up/);

    const contents: Record<string, string>[] = [];
    const rounds = [
      { label: 'Away disk', text: 'second letter' },
      { label: 'Home disk', text: 'third letter' },
      { label: 'Away disk', text: 'fourth letter' },
      { label: 'Home disk', text: 'fifth letter' },
    ];
    for (const [index, round] of rounds.entries()) {
      if (index > 0) state = await swap(controller, round.label === 'Away disk' ? away : home, round.label === 'Away disk' ? home : away, round.label);
      writeFileSync(join(laptop.documents, `${index}.txt`), `${round.text}\n`.repeat(1000));
      const ran = await laptop.backup();
      expect(ran.code, ran.stderr).toBe(0);
      contents.push(await laptop.restore());
      expect(contents.at(-1)).toEqual(treeDigest(laptop.documents));
    }

    // Dedup within a disk: the same data again adds almost nothing.
    writeFileSync(join(laptop.documents, 'photo.bin'), Buffer.alloc(4 << 20, 7).map((_, i) => (i * 2654435761) >>> 24));
    expect((await laptop.backup()).code).toBe(0);
    const before = folderBytes(join(home.mountPoint, repo, 'data'));
    expect((await laptop.backup()).code).toBe(0);
    expect(folderBytes(join(home.mountPoint, repo, 'data')) - before).toBeLessThan(64 * 1024);

    // Each disk holds its own snapshots; restic's cache on the laptop was never confused.
    const snapshots = await laptop.shell(`restic --cacert "$HOME/.config/restic-tray-server/ca.pem" snapshots --json`);
    expect(snapshots.code, snapshots.stderr).toBe(0);
    expect(repoFiles(home.mountPoint, repo, 'snapshots').length).toBe(5);
    state = await swap(controller, away, home, 'Away disk');
    expect(repoFiles(away.mountPoint, repo, 'snapshots').length).toBe(2);
    expect(await laptop.restore()).toEqual(contents[2]);
    const computer = state.computers.find((c) => c.username === repo);
    expect(computer?.disks.map((d) => [d.label, d.current, d.snapshots])).toEqual([
      ['Away disk', true, 2],
      ['Home disk', false, 5],
    ]);

    home.plug();
    for (const disk of [home, away]) {
      const checked = await check(disk.mountPoint, repo);
      expect(checked.code, checked.stderr).toBe(0);
    }
  });
});

describe.runIf(canMount() && hasTool('restic') && hasTool('curl') && hasTool('script'))('when backups cannot reach the disk in use', () => {
  it('a computer whose repository the Away disk lacks, with no copy of its keys (lost), turns the status yellow with one sentence naming it and an error in the live log; the Home disk plugged in once mends it', { timeout: 300_000 }, async () => {
    const { controller, configDir, home, away } = await homeAndAway();
    const laptop = await connectedLaptop(controller);
    await waitForState(controller, (s) => s.computers[0]?.disks.find((disk) => disk.label === 'Home disk')?.snapshots === 1);
    await vi.waitFor(() => expect(readFileSync(join(configDir, 'settings.json'), 'utf8')).toContain(`"${laptop.anna.username}": {`));
    await controller.close();
    rmSync(join(configDir, 'repository-identities.json'));
    home.unplug();
    away.plug();

    const { controller: reopened } = await openController({ configDir });
    await waitForState(reopened, (s) => s.storage?.label === 'Away disk');
    const failed = await laptop.backup();
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('does not exist');
    const sentence = `Anna's laptop cannot back up to “Away disk”: its backups are not on this disk, and the app has no copy of their keys yet. Plug in “Home disk” once: the app then sets them up on every disk.`;
    const yellow = await waitForState(reopened, (s) => s.colour === 'yellow');
    expect(yellow.sentence).toBe(sentence);
    expect(yellow.reasons.map((reason) => reason.key)).toEqual([`unreachable:${laptop.anna.username}`]);
    expect((await reopened.recentSummaries()).filter((summary) => summary.severity === 'error').map((summary) => summary.message)).toContain(sentence);

    await swap(reopened, home, away, 'Home disk');
    await swap(reopened, away, home, 'Away disk');
    const ran = await laptop.backup();
    expect(ran.code, ran.stderr).toBe(0);
    expect((await waitForState(reopened, (s) => s.colour === 'green')).reasons).toEqual([]);
  });

  it('a new line made right after a swap is never refused', { timeout: 300_000 }, async () => {
    const { controller, home, away } = await homeAndAway();
    const laptop = await connectedLaptop(controller);
    for (const [plug, unplug, label] of [
      [away, home, 'Away disk'],
      [home, away, 'Home disk'],
      [away, home, 'Away disk'],
      [home, away, 'Home disk'],
    ] as const) {
      await swap(controller, plug, unplug, label);
      const ran = await laptop.connect();
      expect(ran.code, ran.output).toBe(0);
      expect(ran.output).toContain("The backups of Anna's laptop are already on the server");
    }
  });
});

describe('naming the disks and the reminder to swap them', () => {
  const DAY_MS = 86_400_000;

  it('a disk away longer than the set days (14 unless set) is a status reason and a notification, until it is swapped in', async () => {
    let clock = Date.parse('2026-12-01T10:00:00Z');
    const { controller, data } = await openServing({ now: () => clock });
    const awayId = (await controller.getState()).disks[0]?.id as string;
    await controller.renameDisk({ diskId: awayId, label: 'Away disk' });
    await controller.chooseFolder({ path: tempDir('rts-data-'), label: 'Home disk' });
    let state = await waitForState(controller, (s) => s.status === 'serving' && s.storage?.label === 'Home disk');
    expect(state.disks.map((disk) => [disk.label, disk.current])).toEqual([
      ['Away disk', false],
      ['Home disk', true],
    ]);
    const notifications: Notification[] = [];
    controller.on('notification', (notification) => notifications.push(notification));

    clock += 14 * DAY_MS + 3_600_000;
    expect((await controller.getState()).colour).toBe('green');
    clock += DAY_MS;
    const message = 'Swap the backup disks: the Away disk has not been updated for 15 days.';
    state = await controller.getState();
    expect(state).toMatchObject({ colour: 'yellow', sentence: message, reasons: [{ key: `swap-disks:${awayId}`, severity: 'warning', message }] });
    await vi.waitFor(() => expect(notifications).toEqual([{ title: 'Restic Tray Server', body: message }]));

    await controller.updateSettings({ swapReminderDays: 30 });
    expect((await controller.getState()).colour).toBe('green');
    expect((await controller.getState()).settings.swapReminderDays).toBe(30);
    await controller.updateSettings({ swapReminderDays: 14 });
    expect((await controller.getState()).colour).toBe('yellow');

    // Swapped: the Away disk is in, and the Home disk was in use until now.
    await controller.chooseFolder({ path: data });
    state = await waitForState(controller, (s) => s.status === 'serving' && s.storage?.label === 'Away disk');
    expect(state.colour).toBe('green');
    clock += 15 * DAY_MS;
    expect((await controller.getState()).sentence).toBe('Swap the backup disks: the Home disk has not been updated for 15 days.');
  });

  it('a disk is renamed by its id; a name that is empty or an unknown disk is refused in words', async () => {
    const { controller } = await openServing();
    const [disk] = (await controller.getState()).disks;
    const renamed = await controller.renameDisk({ diskId: disk?.id as string, label: 'Home disk' });
    expect(renamed.disks[0]?.label).toBe('Home disk');
    expect(renamed.storage?.label).toBe('Home disk');
    await expect(controller.renameDisk({ diskId: 'nope', label: 'X' })).rejects.toMatchObject({ code: 'unknown-disk', message: 'This disk is not known (any more).' });
    const empty = await dispatch(controller, 'renameDisk', { diskId: disk?.id, label: '  ' }, () => undefined);
    expect(empty).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringContaining('a name is needed') } });
    expect((await controller.getState()).disks[0]?.label).toBe('Home disk');
  });
});
