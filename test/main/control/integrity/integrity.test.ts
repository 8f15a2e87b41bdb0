import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../../../main/contract.js';
import { QUARANTINE_NAME, readScrubState } from '../../../../server/scrub/scrub.js';
import { backedUpLaptop, clientHome, paste, servingController } from '../../../helpers/client-computer.js';
import { openController, openServing, runBash, waitForState } from '../../../helpers/controller.js';
import { get, send } from '../../../helpers/http.js';
import { makeSourceTree, RESTIC_PASSWORD } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';
import { damageLargestPack, writeRepository } from '../../../helpers/repository.js';

describe.runIf(hasTool('restic'))('integrity checks in the app, with real restic', () => {
  it('“Check now” finds the damage, moves it aside, turns the status yellow with a notification; the generated repair commands make the repository whole', { timeout: 240_000 }, async () => {
    const { controller } = await servingController();
    const notifications: Notification[] = [];
    controller.on('notification', (note) => notifications.push(note));
    const { anna, source, home, lines } = await backedUpLaptop(controller, 6, 3 << 20);

    const state = await controller.getState();
    const folder = state.storage?.folder as string;
    const repoFolder = join(folder, anna.username);
    const pack = damageLargestPack(repoFolder);
    const snapshot = join(repoFolder, 'snapshots', readdirSync(join(repoFolder, 'snapshots'))[0] as string);
    writeFileSync(snapshot, '');

    await controller.checkIntegrity();
    const found = await waitForState(controller, (s) => s.integrity.running === null && s.integrity.awaitingRepair.length > 0, 60_000);
    const [damaged] = found.integrity.awaitingRepair;
    expect(damaged).toMatchObject({ repo: anna.username, username: anna.username, displayName: "Anna's laptop" });
    expect(damaged?.findings.map((finding) => [finding.file, finding.damage])).toEqual([
      [pack.slice(repoFolder.length + 1), 'changed'],
      [snapshot.slice(repoFolder.length + 1), 'empty'],
    ]);
    for (const finding of damaged?.findings ?? []) {
      expect(existsSync(join(repoFolder, finding.file))).toBe(false);
      expect(existsSync(join(folder, finding.quarantined as string))).toBe(true);
      expect(finding.quarantined).toBe(`${QUARANTINE_NAME}/${anna.username}/${finding.file}`);
    }
    expect(found.colour).toBe('yellow');
    expect(found.sentence).toMatch(/Damaged files were found in Anna's laptop’s backups/);
    expect(found.integrity.disks[0]?.lastCheckedAt).not.toBeNull();
    expect(found.integrity.disks[0]?.damaged).toBe(2);
    // Notifications go out with the next published state.
    await vi.waitFor(() => expect(notifications.map((note) => note.body).join('\n')).toMatch(/Damaged files were found in Anna's laptop’s backups/), { timeout: 5000 });
    const summaries = (await controller.recentSummaries()).map((summary) => summary.message).join('\n');
    expect(summaries).toMatch(/Integrity check of “.+” started\./);
    expect(summaries).toMatch(/Integrity check of “.+” finished: \d+ objects \(.+\) checked, 2 damaged files found\./);

    // Anna's login is append-only: the repair goes through the maintenance login, as its notes say.
    expect(lines.repair.notes.join(' ')).toMatch(/maintenance login/);
    const maintenance = await controller.createMaintenanceLogin();
    const repair = await controller.commandLines({
      username: maintenance.username,
      repository: anna.username,
      os: 'linux',
      resticVersion: 'before-0.17',
      password: maintenance.password,
      backupPaths: [source],
    });
    for (const step of repair.repair.steps) {
      const result = await runBash(`${repair.setup}\n${step.command}`, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') });
      expect(result.code, `${step.label}: ${result.stderr.slice(-1500)}`).toBe(0);
    }
    const repaired = await controller.markRepaired({ repo: anna.username });
    expect(repaired.integrity.awaitingRepair).toEqual([]);
    expect(repaired.colour).toBe('green');
    await expect(controller.markRepaired({ repo: anna.username })).rejects.toMatchObject({ code: 'not-found' });

    // The repaired repository passes the next check.
    await controller.checkIntegrity();
    const clean = await waitForState(controller, (s) => s.integrity.running === null && s.integrity.disks[0]?.damaged === 0, 60_000);
    expect(clean.integrity.awaitingRepair).toEqual([]);
  });
});

describe.runIf(hasTool('restic'))('a check while a computer backs up', () => {
  it('reads slowly while the backup runs; the backup completes, nothing it writes is taken for damage, and restic checks clean', { timeout: 240_000 }, async () => {
    const { controller } = await servingController();
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const home = await clientHome(controller);
    const first = makeSourceTree(8, 4 << 20);
    const lines = await controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17', password: anna.password, backupPaths: [first] });
    await paste(lines, 'init', home);
    await paste(lines, 'backup', home);

    const second = makeSourceTree(8, 4 << 20);
    const more = await controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17', password: anna.password, backupPaths: [second] });
    const backup = paste(more, 'backup', home);
    await controller.checkIntegrity();
    let paced = false;
    const done = await waitForState(
      controller,
      (s) => {
        paced ||= s.integrity.running?.paced === true;
        return s.integrity.running === null && s.integrity.disks[0]?.lastCheckedAt !== null;
      },
      120_000,
    );
    await backup;
    expect(paced).toBe(true);
    expect(done.integrity.disks[0]?.damaged).toBe(0);
    expect(done.integrity.awaitingRepair).toEqual([]);
    const checked = await runBash(`${more.setup}\n${more.repair.steps.at(-1)?.command}`, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') });
    expect(checked.stdout).toMatch(/no errors were found/);
  });
});

describe('integrity checks in the app', () => {
  it('a never-checked disk is checked by itself once the server is idle; the disk remembers it', { timeout: 60_000 }, async () => {
    // The repository is there before the server serves: its first tick may already start the check.
    const data = tempDir('rts-data-');
    writeRepository(data, 'family', 5, 10_000);
    const { controller } = await openServing({ path: data, tickMs: 100 });
    const checked = await waitForState(controller, (s) => s.integrity.disks[0]?.lastCheckedAt !== null && s.integrity.running === null, 30_000);
    expect(checked.integrity.disks[0]).toMatchObject({ objects: 5, damaged: 0 });
    expect(checked.integrity.nextCheckAt).not.toBeNull();
    expect(Date.parse(checked.integrity.nextCheckAt as string) - Date.parse(checked.integrity.disks[0]?.lastCheckedAt as string)).toBe(30 * 86_400_000);
    expect(checked.colour).toBe('green');
  });

  it('each disk of a rotating pair gets its own check, and is remembered while it is away', { timeout: 60_000 }, async () => {
    const data = tempDir('rts-data-');
    const other = tempDir('rts-data-');
    writeRepository(data, 'family', 3, 4096);
    writeRepository(other, 'family', 7, 4096);
    const { controller } = await openServing({ path: data, tickMs: 100 });
    const first = await waitForState(controller, (s) => s.integrity.disks[0]?.lastCheckedAt !== null && s.integrity.running === null, 30_000);
    expect(first.integrity.disks[0]?.objects).toBe(3);
    await controller.chooseFolder({ path: other });
    const both = await waitForState(controller, (s) => s.integrity.disks.length === 2 && s.integrity.disks.every((disk) => disk.lastCheckedAt !== null) && s.integrity.running === null, 30_000);
    expect(both.integrity.disks.map((disk) => disk.objects)).toEqual([3, 7]);
  });

  it('a check stopped by closing the app goes on from where it stopped when the app is back', { timeout: 60_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const first = await openServing({ configDir });
    const total = 24;
    writeRepository(first.data, 'family', total, 1 << 20);
    // A computer was just here: the check reads slowly (8 MB/s), which leaves time to close the app mid-way.
    await send(first.url, get('/family/config'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.controller.checkIntegrity();
    await waitForState(first.controller, (s) => (s.integrity.running?.objects ?? 0) >= 4, 20_000);
    await first.controller.close();
    const kept = await readScrubState(first.data);
    const done = kept.current?.objects as number;
    expect(done).toBeGreaterThanOrEqual(4);
    expect(done).toBeLessThan(total);

    const { controller } = await openController({ configDir, tickMs: 100 });
    const finished = await waitForState(controller, (s) => s.integrity.running === null && s.integrity.disks[0]?.lastCheckedAt !== null, 30_000);
    expect(finished.integrity.disks[0]).toMatchObject({ objects: total, damaged: 0 });
    expect((await controller.recentSummaries()).map((summary) => summary.message).join('\n')).toMatch(/Integrity check of “.+” resumed \(due\)\./);
  });

  it('refuses “Check now” without a disk being served, and a repair mark where nothing waits', async () => {
    const { controller } = await openServing();
    await expect(controller.markRepaired({ repo: 'nobody' })).rejects.toMatchObject({ code: 'not-found' });
    await controller.stopServer();
    await expect(controller.checkIntegrity()).rejects.toMatchObject({ code: 'not-serving' });
  });
});
