import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { headless } from '../helpers/headless.js';
import { RESTIC_PASSWORD, resticOk } from '../helpers/restic.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

const DAY_MS = 86_400_000;
const resticTime = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');

describe.runIf(hasChromium() && hasTool('restic'))('the retention preview on the computer’s page', () => {
  it('asks for the kept password first, then previews the default policy and a custom one', { timeout: 120_000 }, async () => {
    const { bridge, controller, bugs } = await headless();
    const data = tempDir('rts-data-');
    await controller.setTls({ enabled: false });
    await controller.chooseFolder({ path: data });
    await controller.updateSettings({ setupComplete: true });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const repo = join(data, anna.username);
    await resticOk(repo, ['init']);
    const source = tempDir('rts-source-');
    for (let index = 0; index < 12; index++) {
      writeFileSync(join(source, 'notes.txt'), `version ${index}`);
      await resticOk(repo, ['backup', '--host', 'annas-laptop', '--time', resticTime(new Date(Date.now() - index * 9 * DAY_MS)), source]);
    }

    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop/ }).click();
    const section = page.getByRole('region', { name: 'Which backups are kept' });
    await section.getByText(/Keep the encryption password above to see the preview/).waitFor();

    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    await section.getByRole('button', { name: 'Preview' }).click();
    const expected = await controller.previewRetention({ username: anna.username });
    await section.getByRole('status').getByText(`restic would keep ${expected.keep.length} backups and remove ${expected.forget.length} backups.`).waitFor();
    expect(await section.locator('.retention-forget li').count()).toBe(expected.forget.length);

    await section.getByLabel('Monthly').fill('0');
    await section.getByLabel('Weekly').fill('1');
    await section.getByRole('button', { name: 'Preview' }).click();
    const lean = await controller.previewRetention({ username: anna.username, policy: { withinDays: 2, daily: 7, weekly: 1, monthly: 0, yearly: 3 } });
    expect(lean.forget.length).toBeGreaterThan(expected.forget.length);
    await section.getByRole('status').getByText(`restic would keep ${lean.keep.length} backups and remove ${lean.forget.length} backups.`).waitFor();
    await screenshot(page, '44-retention-preview');
    expect(await resticOk(repo, ['snapshots', '--json']).then((text) => (JSON.parse(text) as unknown[]).length)).toBe(12);
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
