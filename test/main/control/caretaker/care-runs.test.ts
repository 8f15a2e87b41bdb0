import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppState, ComputerCare } from '../../../../main/contract.js';
import { backedUpLaptop, paste, servingController } from '../../../helpers/client-computer.js';
import { openServing, runBash, waitForState } from '../../../helpers/controller.js';
import { damageLargestPack } from '../../../helpers/repository.js';
import { makeSourceTree, RESTIC_PASSWORD, resticOk, startRestic } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { FakeUsbDisk } from '../../../helpers/tmpfs.js';
import { canMount, hasTool } from '../../../helpers/tools.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const resticTime = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');
const careOf = (state: AppState, username: string) => state.caretaker.computers.find((care) => care.username === username) as ComputerCare;

/** Older backups with files of their own, so that the retention has something to remove and prune has packs to delete. */
async function olderBackups(repo: string, count: number, size = 256 << 10): Promise<void> {
  const source = tempDir('rts-older-');
  for (let index = 0; index < count; index++) {
    writeFileSync(join(source, 'changes.bin'), randomBytes(size));
    await resticOk(repo, ['backup', '--host', 'annas-laptop', '--time', resticTime(new Date(Date.now() - (count - index) * 9 * DAY_MS)), source]);
  }
}

/**
 * Whether restic's lock is on the disk under its final name: restic 0.14
 * writes `<id>-tmp-<random>` first and renames it, and a file under that
 * name is no lock to another restic (nor is an empty one).
 */
const locked = (repo: string): boolean =>
  readdirSync(join(repo, 'locks'))
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .some((name) => statSync(join(repo, 'locks', name)).size > 0);

/** The desktop's own restic doing `words` (its command line, not a dry run) on this repository, by its process id. */
function resticProcess(repo: string, words: string[]): number | undefined {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.includes(repo) && words.every((word) => args.includes(word)) && !args.includes('--dry-run')) return Number(pid);
  }
  return undefined;
}

/** Waits until the desktop's prune of `repo` holds restic's lock, then pauses it there (SIGSTOP): a prune that is under way, for as long as the test needs. */
async function pausePruneUnderLock(repo: string): Promise<number> {
  for (;;) {
    const pid = resticProcess(repo, ['forget', '--prune']);
    if (pid !== undefined && locked(repo)) {
      process.kill(pid, 'SIGSTOP');
      // Between the look and the stop restic may have let go of its lock: then it goes on and is caught again.
      if (locked(repo)) return pid;
      process.kill(pid, 'SIGCONT');
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.runIf(hasTool('restic'))('the desktop’s runs of restic meet backups, the schedule and unplugged disks', () => {
  it('runs by itself once the computer has been quiet 15 minutes after its backup: retention, then the month’s check', { timeout: 240_000 }, async () => {
    let clock = Date.now();
    const { controller } = await servingController({ now: () => clock, tickMs: 100 });
    const { anna } = await backedUpLaptop(controller, 2, 1 << 16);
    const repo = join((await controller.getState()).storage?.folder as string, anna.username);
    await olderBackups(repo, 12, 16 << 10);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    const waiting = careOf(await controller.getState(), anna.username);
    expect(waiting).toMatchObject({ running: null, lastRetention: null, lastCheck: null, retentionDueAt: new Date(clock).toISOString() });

    // Due, but the computer spoke less than 15 minutes ago: nothing runs through many ticks.
    clock += 14 * MINUTE_MS;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(careOf(await controller.getState(), anna.username)).toMatchObject({ running: null, lastRetention: null, lastCheck: null });

    clock += 2 * MINUTE_MS;
    const pruned = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastRetention !== null, 120_000), anna.username);
    expect(pruned.lastRetention).toMatchObject({ ok: true, removed: expect.any(Number) as number, problem: null });
    expect(pruned.lastRetention?.removed).toBeGreaterThan(0);
    expect(pruned.retentionDueAt).toBe(new Date(Date.parse(pruned.lastRetention?.at as string) + 7 * DAY_MS).toISOString());
    const checked = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastCheck !== null, 120_000), anna.username);
    expect(checked.lastCheck).toMatchObject({ outcome: 'ok', subset: `${new Date(clock).getUTCMonth() + 1}/12` });
    await resticOk(repo, ['check', '--read-data']);
  });

  it('a backup arriving during a prune is refused by restic’s lock and works when tried again; the prune completes', { timeout: 240_000 }, async () => {
    const { controller } = await servingController();
    const { anna, home, lines } = await backedUpLaptop(controller, 2, 1 << 16);
    const repo = join((await controller.getState()).storage?.folder as string, anna.username);
    await olderBackups(repo, 20);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });

    await controller.runRetention({ username: anna.username });
    const pid = await pausePruneUnderLock(repo);
    expect(careOf(await controller.getState(), anna.username).running).toBe('retention');
    const during = await runBash(`${lines.setup}\n${lines.commands.backup.command}`, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') });
    expect(during.code).not.toBe(0);
    expect(during.stderr).toMatch(/repository is already locked exclusively/);
    process.kill(pid, 'SIGCONT');

    const done = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastRetention !== null, 120_000), anna.username);
    expect(done.lastRetention).toMatchObject({ ok: true, problem: null });
    // The computer's schedule tries again: the backup works, and the backups are whole.
    await paste(lines, 'backup', home);
    await resticOk(repo, ['check', '--read-data']);
  });

  it('a prune asked for while a backup holds restic’s lock fails in words; the schedule runs it an hour later', { timeout: 240_000 }, async () => {
    let clock = Date.now();
    const { controller } = await servingController({ now: () => clock, tickMs: 100 });
    const { anna } = await backedUpLaptop(controller, 2, 1 << 16);
    const repo = join((await controller.getState()).storage?.folder as string, anna.username);
    await olderBackups(repo, 12, 16 << 10);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    // The quiet 15 minutes pass while a backup runs (paused under its lock): "Run now" does not wait for them.
    const packs = () => readdirSync(join(repo, 'data'), { recursive: true }).length;
    const before = packs();
    const backup = startRestic(repo, ['backup', '--host', 'annas-laptop', makeSourceTree(8, 4 << 20)]);
    // Paused once it uploads: well past taking its lock.
    while (!locked(repo) || packs() === before) await new Promise((resolve) => setTimeout(resolve, 5));
    backup.child.kill('SIGSTOP');
    await controller.runRetention({ username: anna.username });
    const refused = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastRetention !== null, 60_000), anna.username);
    expect(refused.lastRetention).toMatchObject({ ok: false, removed: 0, problem: 'another restic is working on these backups; it is tried again later' });
    expect(refused.retentionDueAt).toBe(new Date(Date.parse(refused.lastRetention?.at as string) + 60 * MINUTE_MS).toISOString());
    // A reason on the dashboard, which the notifications send.
    const failing = (state: AppState) => state.reasons.find((reason) => reason.key === `care-failing:${anna.username}`)?.message;
    expect(failing(await controller.getState())).toBe(
      "The desktop could not look after Anna's laptop’s backups: removing old backups did not work, another restic is working on these backups; it is tried again later.",
    );
    backup.child.kill('SIGCONT');
    expect((await backup.done).code).toBe(0);

    clock += 61 * MINUTE_MS;
    const again = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastRetention?.ok === true, 120_000), anna.username);
    expect(again.lastRetention?.removed).toBeGreaterThan(0);
    expect(failing(await controller.getState())).toBeUndefined();
    // The month's check comes next; ours waits for it (restic's check locks the repository).
    await waitForState(controller, (state) => careOf(state, anna.username).lastCheck !== null, 120_000);
    await resticOk(repo, ['check', '--read-data']);
  });

  it.runIf(canMount())('a disk unplugged during a prune stops it at once, nothing is written where the disk was, and the schedule runs it again once the disk is back', { timeout: 240_000 }, async () => {
    const disk = new FakeUsbDisk(256);
    let clock = Date.now();
    const { controller, data } = await openServing({ path: disk.mountPoint, now: () => clock, tickMs: 100 });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const repo = join(data, anna.username);
    await resticOk(repo, ['init']);
    await olderBackups(repo, 20);
    await resticOk(repo, ['backup', '--host', 'annas-laptop', tempDir('rts-today-')]);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });

    await controller.runRetention({ username: anna.username });
    const pid = await pausePruneUnderLock(repo);
    disk.unplug();
    await waitForState(controller, (state) => state.status === 'disk-missing');
    const stopped = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastRetention !== null, 60_000), anna.username);
    expect(stopped.lastRetention).toMatchObject({ ok: false, problem: 'the backup disk was unplugged while restic worked; it runs again later' });
    expect(() => process.kill(pid, 0)).toThrow();
    expect(readdirSync(disk.mountPoint)).toEqual([]);
    const log = (await controller.recentSummaries()).map((summary) => summary.message);
    expect(log).toContain("restic on Anna's laptop’s backups was stopped: the backup disk was unplugged while restic worked; it runs again later.");

    disk.plug();
    await waitForState(controller, (state) => state.status === 'serving' || state.status === 'attention');
    // Tried again an hour later, by the schedule: the lock the stopped run left is removed first.
    clock += 61 * MINUTE_MS;
    const again = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastRetention?.ok === true, 120_000), anna.username);
    expect(again.lastRetention?.removed).toBeGreaterThan(0);
    await waitForState(controller, (state) => careOf(state, anna.username).lastCheck !== null, 120_000);
    expect(readdirSync(join(repo, 'locks')).filter((name) => !name.startsWith('.'))).toEqual([]);
    await resticOk(repo, ['check', '--read-data']);
  });

  it('damage found by the integrity check is repaired by the desktop at once; the next backup heals it and check --read-data is clean', { timeout: 240_000 }, async () => {
    const { controller } = await servingController();
    const { anna, home, lines } = await backedUpLaptop(controller, 6, 3 << 20);
    const folder = (await controller.getState()).storage?.folder as string;
    const repo = join(folder, anna.username);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    damageLargestPack(repo);

    await controller.checkIntegrity();
    const repaired = await waitForState(controller, (state) => state.integrity.running === null && careOf(state, anna.username).repair !== null, 120_000);
    expect(careOf(repaired, anna.username).repair).toMatchObject({ ok: true, steps: ['rebuild-index'], problem: null, healedAt: null });
    expect(repaired.integrity.awaitingRepair).toEqual([]);
    expect(repaired.colour).toBe('green');
    const log = (await controller.recentSummaries()).map((summary) => summary.message);
    expect(log).toContain("Anna's laptop’s backups were repaired by the desktop: the next backup of Anna's laptop puts back what the damaged files held.");

    // restic stores again what the index no longer has, and says so (exit code 3: the snapshot is made, with warnings).
    const healing = await runBash(`${lines.setup}\n${lines.commands.backup.command}`, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') });
    expect(healing.stderr).toMatch(/not found in the repository index; storing the file again/);
    expect([0, 3]).toContain(healing.code);
    await resticOk(repo, ['check', '--read-data']);
    const healed = await waitForState(controller, (state) => careOf(state, anna.username).repair?.healedAt !== null);
    expect(Date.parse(careOf(healed, anna.username).repair?.healedAt as string)).toBeGreaterThan(Date.parse(careOf(healed, anna.username).repair?.at as string));
  });
});
