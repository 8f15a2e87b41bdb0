import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { headless, setUpHeadless } from '../helpers/headless.js';
import { RESTIC_PASSWORD, resticOk } from '../helpers/restic.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

describe.runIf(hasChromium() && hasTool('restic'))('the encryption password kept on the desktop, on the computer’s page', () => {
  it('a wrong password is refused in words; the right one is kept, shown after a question, and forgotten', { timeout: 90_000 }, async () => {
    const { bridge, controller, bugs, data, computers: [anna] } = await setUpHeadless({ tls: false, computers: ["Anna's laptop"] });
    await resticOk(join(data, anna.username), ['init']);

    // A refused password is an answer the page shows on purpose: no console errors asked for.
    const page = await openPage();
    const pageErrors = pageErrorsOf(page, { consoleErrors: false });
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop/ }).click();
    const section = page.getByRole('region', { name: 'The encryption password' });
    await section.getByText(/restic \d+\.\d+\.\d+ on this desktop opens the backups/).waitFor();
    const keep = section.getByRole('button', { name: 'Keep the encryption password' });
    expect(await keep.isDisabled()).toBe(true);

    await section.getByLabel("Encryption password of Anna's laptop").fill('not the password at all');
    await keep.click();
    await section.getByRole('alert').getByText('This password does not open Anna\'s laptop’s backups.').waitFor();
    await screenshot(page, '40-kept-password-refused');

    await section.getByLabel("Encryption password of Anna's laptop").fill(RESTIC_PASSWORD);
    await keep.click();
    await section.getByRole('status').getByText('The encryption password is kept on this desktop.').waitFor();
    await section.getByText(/a key kept in the app’s folder on this desktop/).waitFor();
    expect((await controller.getState()).caretaker.keptPasswords).toEqual([anna.username]);
    expect(await section.locator('code.secret').count()).toBe(0);
    await screenshot(page, '41-kept-password-kept');

    await section.getByRole('button', { name: 'Show the password…' }).click();
    await section.getByRole('alertdialog').getByText("Show the encryption password of Anna's laptop?").waitFor();
    await section.getByRole('button', { name: 'Show it' }).click();
    await section.locator('code.secret', { hasText: RESTIC_PASSWORD }).waitFor();
    await screenshot(page, '42-kept-password-shown');

    await section.getByRole('button', { name: 'Forget the kept password…' }).click();
    await section.getByRole('button', { name: 'Yes, forget it' }).click();
    await keep.waitFor();
    expect(await section.locator('code.secret').count()).toBe(0);
    expect((await controller.getState()).caretaker.keptPasswords).toEqual([]);
    await screenshot(page, '43-kept-password-forgotten');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it('removing a computer whose password is kept says first that the password is forgotten too; for one without, it says nothing of it', { timeout: 90_000 }, async () => {
    const { bridge, controller, bugs } = await headless();
    const data = tempDir('rts-data-');
    await controller.chooseFolder({ path: data });
    await controller.updateSettings({ setupComplete: true });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const bea = await controller.addComputer({ displayName: 'Bea’s desktop' });
    for (const username of [anna.username, bea.username]) await resticOk(join(data, username), ['init']);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });

    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop/ }).click();
    await page.getByRole('button', { name: 'Remove…' }).click();
    const annaConfirm = page.getByRole('alertdialog', { name: "Remove Anna's laptop?" });
    expect(await annaConfirm.locator('#remove-detail').innerText()).toBe(
      "Its login stops working; its backups stay on the disk in /annas-laptop/. The encryption password kept on this desktop for Anna's laptop is forgotten too: if you may want these backups back one day, first use “Show the password…” under Looking after the backups, and write it down.",
    );
    await annaConfirm.scrollIntoViewIfNeeded();
    await screenshot(page, '44-remove-forgets-kept-password');
    await annaConfirm.getByRole('button', { name: 'Keep' }).click();

    await page.getByRole('button', { name: 'All computers' }).click();
    await page.getByRole('button', { name: /Bea’s desktop/ }).click();
    await page.getByRole('button', { name: 'Remove…' }).click();
    const beaConfirm = page.getByRole('alertdialog', { name: 'Remove Bea’s desktop?' });
    expect(await beaConfirm.locator('#remove-detail').innerText()).toBe('Its login stops working; its backups stay on the disk in /beas-desktop/.');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
