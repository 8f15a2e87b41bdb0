import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Controller } from '../../../../main/control/controller.js';
import { freePort, openController, runBash, waitForState } from '../../../helpers/controller.js';
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
    return runInTerminal(line, home, [PASSWORD, PASSWORD], `${join(home, '.local', 'bin')}:${pathWithoutSchedulers()}`);
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
