import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { waitForState } from '../helpers/controller.js';
import { headless, setUpHeadless } from '../helpers/headless.js';
import { writeRepository } from '../helpers/repository.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { canMount } from '../helpers/tools.js';

const MEMORY_WARNING = 'This folder is in the computer’s memory (tmpfs): everything in it is lost when the computer restarts. Choose a folder on a disk.';

describe.runIf(hasChromium())('every screen says what is true', () => {
  it('right after set-up the dashboard counts the computers not connected yet and links to each one’s page', { timeout: 60_000 }, async () => {
    const { bridge } = await setUpHeadless({ tls: false, computers: ["Anna's laptop", 'Bob’s desktop'] });
    const page = await openPage();
    const errors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const sentence = await page.getByTestId('status-sentence').textContent();
    expect(sentence).toMatch(/; 2 computers not connected yet\.$/);
    expect(sentence).not.toContain('up to date');
    const waiting = page.getByTestId('not-connected');
    expect(await waiting.getByRole('link').allTextContents()).toEqual(["Anna's laptop", 'Bob’s desktop']);
    await screenshot(page, '40-dashboard-not-connected-yet');
    await waiting.getByRole('link', { name: 'Bob’s desktop' }).click();
    await page.getByRole('heading', { name: 'Bob’s desktop', level: 2 }).waitFor();
    expect(errors).toEqual([]);
  });

  it.runIf(canMount())('a folder in memory (tmpfs) is named and warned about in the set-up’s disk step, yet still usable', { timeout: 60_000 }, async () => {
    const disk = new FakeUsbDisk(16);
    const { bridge, controller } = await headless();
    const page = await openPage();
    await page.goto(bridge.url);
    await page.getByLabel('Folder', { exact: true }).fill(disk.mountPoint);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('note').getByText(MEMORY_WARNING).waitFor();
    expect(await page.locator('.picker-choose').textContent()).toContain('(tmpfs)');
    await screenshot(page, '41-setup-disk-tmpfs');
    await page.getByRole('button', { name: 'Use this folder' }).click();
    await page.getByRole('heading', { name: '2. Which computers will back up here?' }).waitFor();
    expect((await controller.getState()).storage).toMatchObject({ folder: disk.mountPoint, fileSystem: 'tmpfs', warnings: [MEMORY_WARNING], inMemory: true });
  });

  it.runIf(canMount())('Storage names the file system, warns of a tmpfs, keeps the disk identity under Details; unplugged, it offers no eject and no old damage figures', { timeout: 90_000 }, async () => {
    const disk = new FakeUsbDisk(32);
    const { bridge, controller } = await setUpHeadless({ tls: false, folder: disk.mountPoint, computers: ["Anna's laptop"] });
    // A check that finds a damaged file, which is then repaired.
    const [damaged] = writeRepository(disk.mountPoint, 'annas-laptop', 3, 20_000) as [{ id: string; data: Buffer; path: string }];
    writeFileSync(damaged.path, Buffer.alloc(damaged.data.length));
    await controller.checkIntegrity();
    await waitForState(controller, (state) => state.integrity.running === null && state.integrity.awaitingRepair.length === 1, 30_000);
    // The finding reaches the disk's own record a moment after the state shows it; only then can it be marked repaired.
    await expect.poll(() => controller.markRepaired({ repo: 'annas-laptop' }).then(() => true, () => false)).toBe(true);

    const page = await openPage();
    const errors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Storage' }).click();
    const diskCard = page.locator('section.card', { has: page.getByRole('heading', { name: 'Disk in use' }) });
    const integrity = page.locator('section.card', { has: page.getByRole('heading', { name: 'Integrity' }) });
    await diskCard.getByText(MEMORY_WARNING).waitFor();
    expect(await diskCard.locator('dl.facts').first().textContent()).toContain('File systemtmpfs');
    const diskId = (await controller.getState()).storage?.diskId as string;
    expect(await diskCard.getByText(diskId).isVisible()).toBe(false);
    await integrity.getByText(/1 damaged file/).waitFor();
    await screenshot(page, '42-storage-tmpfs');
    await diskCard.getByText('Details', { exact: true }).click();
    expect(await diskCard.getByText(diskId).isVisible()).toBe(true);

    disk.unplug();
    await integrity.getByTestId('integrity-away').waitFor({ timeout: 15_000 });
    expect(await integrity.getByTestId('integrity-away').textContent()).toMatch(/^“usb” is not plugged in; its last full check was (just now|1 minute ago)\. Plug it in/);
    expect(await integrity.textContent()).not.toMatch(/damaged file|nothing damaged|repair needed/);
    expect(await page.getByRole('button', { name: 'Safe eject' }).count()).toBe(0);
    await page.locator('.disk-list li', { hasText: 'usb' }).getByText('in use, not plugged in').waitFor();
    await diskCard.getByText(`“usb” is not plugged in (${disk.mountPoint}).`, { exact: false }).waitFor();
    await screenshot(page, '43-storage-disk-away');
    expect(errors).toEqual([]);
  });

  it('Security says how many computers are append-only, with a switch for each; the maintenance login gets only its own commands', { timeout: 60_000 }, async () => {
    const { bridge, controller } = await setUpHeadless({ tls: false, computers: ["Anna's laptop", 'Bob’s desktop'] });
    const page = await openPage();
    const errors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Security' }).click();
    const summary = page.getByTestId('append-only-summary');
    await expect.poll(() => summary.textContent()).toBe('All 2 computers are append-only.');
    expect(await page.getByRole('switch', { name: "Anna's laptop" }).isChecked()).toBe(true);
    const bob = page.getByRole('switch', { name: 'Bob’s desktop' });
    expect(await bob.isChecked()).toBe(true);
    await screenshot(page, '44-security-append-only-all');
    await bob.uncheck();
    await expect.poll(() => summary.textContent()).toBe('1 of 2 computers is append-only.');
    expect((await controller.getState()).computers.map((computer) => computer.appendOnly)).toEqual([true, false]);
    await page.getByRole('button', { name: 'Make every computer append-only' }).click();
    await expect.poll(() => summary.textContent()).toBe('All 2 computers are append-only.');
    expect((await controller.getState()).computers.map((computer) => computer.appendOnly)).toEqual([true, true]);

    await page.getByRole('button', { name: 'Create the maintenance login' }).click();
    await page.getByRole('heading', { name: 'Server login for maintenance' }).waitFor();
    await page.getByLabel('Clean up the backups of').selectOption({ label: 'Bob’s desktop' });
    const labels = page.locator('.commands .code-head span');
    await expect.poll(() => labels.allTextContents()).toEqual([
      'Set-up: paste this first in a terminal on the computer',
      'Keep 7 daily, 5 weekly and 12 monthly backups and remove the rest (forget and prune)',
      'Check the backups (add --read-data to read every file too, which takes much longer)',
      'Make a new index, after the integrity check moved damaged files aside (restic 0.14 to 0.16)',
    ]);
    expect(await page.locator('.commands').textContent()).not.toMatch(/Create the repository|Back up|schedule/);
    expect(await page.locator('.code-block pre').first().textContent()).toContain('/bobs-desktop/');
    await screenshot(page, '45-security-maintenance-commands');
    expect(errors).toEqual([]);
  });
});
