import { renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { waitForState } from '../helpers/controller.js';
import { setUpHeadless } from '../helpers/headless.js';
import { makeSourceTree, resticOk } from '../helpers/restic.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

const DAY_MS = 86_400_000;

describe.runIf(hasChromium() && hasTool('restic'))('disks that take turns, on the screens', () => {
  it('Storage names each disk; the dashboard says which disk is in, how long the other has been away and the newest backup on each, and reminds to swap; a computer’s page says which disk holds which snapshots', { timeout: 120_000 }, async () => {
    let clock = Date.now();
    const homeFolder = tempDir('rts-home-disk-');
    const awayFolder = tempDir('rts-away-disk-');
    const { controller, bridge, computers: [anna] } = await setUpHeadless({ tls: false, folder: homeFolder, computers: ["Anna's laptop"], options: { now: () => clock } });
    const repository = `rest:${((await controller.getState()).clientUrl as string).replace('://', `://${anna.username}:${anna.password}@`)}${anna.username}/`;
    const source = makeSourceTree(2, 1000);
    await resticOk(repository, ['init']);
    await resticOk(repository, ['backup', source]);

    const page = await openPage();
    const errors = pageErrorsOf(page);
    await page.clock.setFixedTime(new Date(clock));
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Storage' }).click();
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('Name of the disk').fill('Home disk');
    await page.getByRole('button', { name: 'Save' }).first().click();
    await page.getByText('Home disk', { exact: true }).first().waitFor();
    expect((await controller.getState()).disks.map((disk) => disk.label)).toEqual(['Home disk']);

    // The Away disk joins: Anna's backups go on there with no step on her computer.
    await controller.chooseFolder({ path: awayFolder, label: 'Away disk' });
    await waitForState(controller, (s) => s.status === 'serving' && s.storage?.label === 'Away disk');
    await resticOk(repository, ['backup', source]);
    await resticOk(repository, ['backup', source]);
    // Swapped back (the Away disk unplugged), and 16 days pass.
    renameSync(awayFolder, `${awayFolder}-unplugged`);
    await controller.chooseFolder({ path: homeFolder });
    await waitForState(controller, (s) => s.status === 'serving' && s.storage?.label === 'Home disk');
    clock += 16 * DAY_MS + 3_600_000;
    await page.clock.setFixedTime(new Date(clock));
    // Anna's laptop is overdue too by then (its last backup is 16 days old): the reminder comes first.
    const reminder = 'Swap the backup disks: the Away disk has not been updated for 16 days.';
    await waitForState(controller, (s) => s.reasons[0]?.message === reminder && s.reasons.some((reason) => reason.key === 'stale:annas-laptop'));

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByTestId('status-sentence').getByText(reminder).waitFor();
    const block = page.getByTestId('rotating-disks');
    expect(await block.locator('li').allTextContents()).toEqual(['Home disk in · newest backup 16 days ago', 'Away disk away for 16 days · newest backup 16 days ago']);
    await page.getByText('In now: Home disk').waitFor();
    await screenshot(page, '50-rotation-dashboard');

    await page.getByRole('link', { name: 'Storage' }).click();
    await page.getByLabel('Remind me to swap the disks when one has been away for more than (days)').waitFor();
    await screenshot(page, '51-rotation-storage');

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByTestId(`computer-${anna.username}`).getByRole('link', { name: "Anna's laptop" }).click();
    const disks = page.getByTestId('computer-disks');
    expect(await disks.locator('li').allTextContents()).toEqual(['Home disk in: 1 snapshot, the newest 16 days ago', 'Away disk: 2 snapshots, the newest 16 days ago']);
    await disks.getByText('Restores read from the disk that is in now (Home disk). For a snapshot on another disk, plug that disk in first.').waitFor();
    await screenshot(page, '52-rotation-computer');
    expect(errors).toEqual([]);
  });
});
