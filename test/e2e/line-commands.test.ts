import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { waitForState } from '../helpers/controller.js';
import { setUpHeadless } from '../helpers/headless.js';
import { damageLargestPack } from '../helpers/repository.js';
import { tempDir } from '../helpers/temp-dir.js';
import { runInTerminal } from '../helpers/terminal.js';
import { hasTool } from '../helpers/tools.js';

/** A family computer's home with photos to back up (random, so the backup has several pack files). */
function familyHome(): string {
  const home = tempDir('rts-home-');
  mkdirSync(join(home, 'Pictures'));
  for (let i = 0; i < 4; i++) writeFileSync(join(home, 'Pictures', `photo-${i}.jpg`), randomBytes(2_500_000));
  return home;
}

describe.runIf(hasChromium() && hasTool('restic') && hasTool('curl') && hasTool('script'))('a computer the set-up line connected, on its page', () => {
  it('its page says its kept password and gives restic-tray-backup’s commands with nothing to fill in; after damage, with no password kept, a repair line, with the warnings to expect, that repairs it there', { timeout: 300_000 }, async () => {
    const { controller, bridge, bugs, data } = await setUpHeadless();

    // Anna keeps her password on the desktop (Enter at the question); Ben does not.
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const annaRan = await runInTerminal((await controller.connectComputer({ username: anna.username, os: 'linux' })).line, familyHome(), ['a long family secret', 'a long family secret', '']);
    expect(annaRan.code, annaRan.output).toBe(0);
    const ben = await controller.addComputer({ displayName: "Ben's desktop" });
    const benHome = familyHome();
    const benRan = await runInTerminal((await controller.connectComputer({ username: ben.username, os: 'linux' })).line, benHome, ['another family secret', 'another family secret', 'n']);
    expect(benRan.code, benRan.output).toBe(0);

    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /^Anna's laptop/ }).click();
    await page.getByText('The encryption password is kept on this desktop.').waitFor();
    const installed = page.getByTestId('installed-commands');
    await installed.getByText('restic-tray-backup restore', { exact: true }).waitFor();
    const shown = await installed.innerText();
    expect(shown).toContain("These use what the set-up line installed on Anna's laptop");
    for (const command of ['restic-tray-backup restore latest Documents', 'restic-tray-backup find "*.pdf"', 'restic-tray-backup mount ~/backups', 'restic-tray-backup check']) expect(shown).toContain(command);
    expect(shown).not.toMatch(/PASTE|--cacert|RESTIC_REPOSITORY/);
    // restic's own commands are there, folded.
    await expect(page.getByText('Set-up: paste this first in a terminal on the computer').isVisible()).resolves.toBe(false);
    await screenshot(page, '60-line-connected-commands');

    // A pack file of Ben's backups is damaged; the integrity check moves it aside.
    const repo = join(data, ben.username);
    damageLargestPack(repo);
    await controller.checkIntegrity();
    await waitForState(controller, (state) => state.integrity.running === null && state.integrity.awaitingRepair.length > 0, 60_000);

    await page.getByRole('button', { name: 'All computers' }).click();
    await page.getByRole('button', { name: /^Ben's desktop/ }).click();
    await page.getByRole('heading', { name: 'Repair with one line' }).waitFor();
    await page.getByRole('button', { name: 'Make the repair line' }).click();
    const block = page.locator('.code-block', { hasText: "Run this on Ben's desktop" });
    const line = (await block.locator('code').textContent()) ?? '';
    const expected = await page.locator('ul.expected').innerText();
    expect(expected).toContain('“error: parts of … not found in the repository index; storing the file again”: the backup uploads again what those files held, from this computer.');
    const text = await page.locator('body').innerText();
    expect(text).not.toContain('this computer’s own');
    expect(text).not.toContain('maintenance login');
    await screenshot(page, '61-repair-line');

    const repaired = await runInTerminal(line, benHome);
    expect(repaired.code, repaired.output).toBe(0);
    expect(repaired.output).toContain("Done: the backups of Ben's desktop are repaired, and the check found no errors.");
    expect((await runInTerminal('restic-tray-backup check', benHome)).output).toContain('no errors were found');
    // restic's check passed there: the damage waits no more, and the page says so by itself.
    await page.getByRole('heading', { name: 'Repair with one line' }).waitFor({ state: 'detached' });
    expect((await controller.getState()).integrity.awaitingRepair).toEqual([]);
    await screenshot(page, '62-repaired');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
