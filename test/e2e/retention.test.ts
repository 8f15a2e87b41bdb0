import { copyFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { waitForState } from '../helpers/controller.js';
import { setUpHeadless } from '../helpers/headless.js';
import { RESTIC_PASSWORD, resticOk } from '../helpers/restic.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { canMount, hasTool } from '../helpers/tools.js';

const DAY_MS = 86_400_000;
const resticTime = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');

/** Twelve backups nine days apart, each with a file of its own. */
async function twelveBackups(repo: string, size = 1024): Promise<void> {
  await resticOk(repo, ['init']);
  const source = tempDir('rts-source-');
  for (let index = 0; index < 12; index++) {
    writeFileSync(join(source, 'notes.txt'), `version ${index} ${'x'.repeat(size)}`);
    await resticOk(repo, ['backup', '--host', 'annas-laptop', '--time', resticTime(new Date(Date.now() - index * 9 * DAY_MS)), source]);
  }
}

describe.runIf(hasChromium() && hasTool('restic'))('looking after the backups on the computer’s page', () => {
  it('a preset or a policy of its own, its preview with the space freed, saved, run now; the month’s check; restic in Settings', { timeout: 180_000 }, async () => {
    const { bridge, controller, bugs, data, computers: [anna] } = await setUpHeadless({ tls: false, computers: ["Anna's laptop"], serve: false });
    const repo = join(data, anna.username);
    await twelveBackups(repo);

    // A refused restic path is an answer the page shows on purpose: no console errors asked for.
    const page = await openPage();
    const pageErrors = pageErrorsOf(page, { consoleErrors: false });
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop/ }).click();
    const looking = page.getByRole('region', { name: 'Looking after the backups' });
    const section = looking.getByRole('region', { name: 'Which backups are kept' });
    await section.getByText(/Keep the encryption password above to see the preview/).waitFor();
    await looking.getByText(/Once the encryption password is kept, the desktop removes Anna's laptop’s old backups every week/).waitFor();
    await screenshot(page, '44-looking-after-no-password');

    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    await section.getByRole('button', { name: 'Preview' }).click();
    const expected = await controller.previewRetention({ username: anna.username });
    await section.getByRole('status').getByText(`restic would keep ${expected.keep.length} backups and remove ${expected.forget.length} backups.`).waitFor();
    expect(await section.locator('.retention-forget li').count()).toBe(expected.forget.length);

    // "Fewer" is a preset; changing a number makes it a policy of its own.
    await section.getByRole('radio', { name: /Fewer/ }).check();
    expect(await section.getByLabel('Monthly').inputValue()).toBe('6');
    await section.getByLabel('Monthly').fill('0');
    await section.getByLabel('Weekly').fill('1');
    expect(await section.getByRole('radio', { name: /Custom/ }).isChecked()).toBe(true);
    expect(await section.getByRole('button', { name: 'Remove old backups now…' }).isDisabled()).toBe(true);
    await section.getByRole('button', { name: 'Preview' }).click();
    const lean = await controller.previewRetention({ username: anna.username, policy: { withinDays: 1, daily: 7, weekly: 1, monthly: 0, yearly: 0 } });
    expect(lean.forget.length).toBeGreaterThan(expected.forget.length);
    await section.getByRole('status').getByText(`restic would keep ${lean.keep.length} backups and remove ${lean.forget.length} backups. That frees about`).waitFor();
    await section.getByRole('button', { name: 'Save this choice' }).click();
    await section.getByRole('button', { name: 'Saved' }).waitFor();
    expect((await controller.getState()).caretaker.computers[0]?.policy).toEqual(lean.policy);
    await screenshot(page, '45-retention-preview');
    expect(await resticOk(repo, ['snapshots', '--json']).then((text) => (JSON.parse(text) as unknown[]).length)).toBe(12);

    await section.getByRole('button', { name: 'Remove old backups now…' }).click();
    await section.getByRole('button', { name: 'Yes, remove them' }).click();
    await looking.getByText(new RegExp(`Last time, .+: ${lean.forget.length} old backups removed, .+ freed\\.`)).waitFor({ timeout: 60_000 });
    expect(await resticOk(repo, ['snapshots', '--json']).then((text) => (JSON.parse(text) as unknown[]).length)).toBe(lean.keep.length);
    await looking.getByText(/that backup stops at once, saying the repository is locked/).waitFor();

    await looking.getByRole('button', { name: 'Check now' }).click();
    await looking.getByText(new RegExp(`Last check, .+ \\(part ${new Date().getUTCMonth() + 1}/12\\): nothing wrong\\.`)).waitFor({ timeout: 60_000 });
    await screenshot(page, '46-looking-after-done');

    await page.getByRole('link', { name: 'Settings' }).click();
    const restic = page.getByText(/restic \d+\.\d+\.\d+ is ready, at/);
    await restic.waitFor();
    await page.getByLabel(/Use the restic program at/).fill('/nonexistent/restic');
    await page.getByRole('button', { name: 'Save' }).last().click();
    await page.getByRole('alert').getByText('There is no program that can be run at /nonexistent/restic.').waitFor();
    await screenshot(page, '47-settings-restic');

    // restic at a path of its own that is then removed: the card says how to install it.
    const own = join(tempDir('rts-restic-bin-'), 'restic');
    copyFileSync('/usr/bin/restic', own);
    await page.getByLabel(/Use the restic program at/).fill(own);
    await page.getByRole('button', { name: 'Save' }).last().click();
    await page.getByText(`is ready, at ${own}`).waitFor();
    unlinkSync(own);
    await expect(controller.previewRetention({ username: anna.username })).rejects.toMatchObject({ code: 'no-restic' });
    await page.getByRole('status').getByText(`There is no restic program at ${own}. Install restic with your package manager (on Debian or Ubuntu: sudo apt install restic), or give the path of the restic program in Settings.`).waitFor();
    await screenshot(page, '48-settings-restic-missing');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it.runIf(canMount())('a disk with less than 10% free proposes removing old backups now, on the page and in the status', { timeout: 120_000 }, async () => {
    const disk = new FakeUsbDisk(24);
    const { bridge, controller, bugs, computers: [anna] } = await setUpHeadless({ tls: false, folder: disk.mountPoint, computers: ["Anna's laptop"] });
    await twelveBackups(join(disk.mountPoint, anna.username));
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    const storage = (await controller.getState()).storage;
    writeFileSync(join(disk.mountPoint, 'filler'), Buffer.alloc(Math.floor((storage?.freeBytes ?? 0) - (storage?.totalBytes ?? 0) * 0.05)));
    const proposed = await waitForState(controller, (state) => state.reasons.some((reason) => reason.key === 'retention-proposed'));
    expect(proposed.reasons.find((reason) => reason.key === 'retention-proposed')?.message).toBe(
      "Less than 10% of the backup disk is free: removing old backups makes room. Preview and run the retention now on the page of Anna's laptop.",
    );

    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByText(/Preview and run the retention now on the page of Anna's laptop/).first().waitFor();
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop/ }).click();
    const section = page.getByRole('region', { name: 'Which backups are kept' });
    await section.getByRole('alert').getByText('Less than 10% of the backup disk is free. Removing old backups makes room: preview what goes, then remove them now.').waitFor();
    await section.getByRole('button', { name: 'Preview' }).click();
    await section.getByRole('status').getByText(/restic would keep \d+ backups and remove \d+ backups\./).waitFor();
    await screenshot(page, '49-retention-proposed');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
