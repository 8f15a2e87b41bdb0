import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { backedUpLaptop } from '../helpers/client-computer.js';
import { waitForState } from '../helpers/controller.js';
import { headless } from '../helpers/headless.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

describe.runIf(hasChromium() && hasTool('restic'))('a computer’s page', () => {
  it('comes in sections, its status first and the by-hand commands folded last; a password reset says on the page that it worked and what to do next', { timeout: 120_000 }, async () => {
    const { controller, bridge } = await headless();
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    await controller.updateSettings({ setupComplete: true });
    await controller.startServer();
    await waitForState(controller, (state) => state.status === 'serving' || state.status === 'attention');
    const { anna } = await backedUpLaptop(controller, 2, 20_000);
    await waitForState(controller, (state) => state.computers[0]?.snapshots === 1);

    const page = await openPage();
    const errors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByTestId(`computer-${anna.username}`).getByRole('link', { name: "Anna's laptop" }).click();
    const sections = page.locator('.computer-page > section.card');
    await page.getByRole('heading', { name: "Anna's laptop", level: 2 }).waitFor();
    expect(await sections.locator(':scope > header h2').allTextContents()).toEqual(["Anna's laptop", 'Connect', 'Restore', 'Looking after the backups', 'Settings', 'By hand']);
    // The sections are named for screen readers by their titles.
    expect(await sections.evaluateAll((cards) => cards.map((card) => card.getAttribute('aria-labelledby') && card.ownerDocument.getElementById(card.getAttribute('aria-labelledby') as string)?.textContent))).toEqual([
      "Anna's laptop",
      'Connect',
      'Restore',
      'Looking after the backups',
      'Settings',
      'By hand',
    ]);

    const status = page.getByTestId('computer-status');
    const facts = await status.evaluate((list) => Object.fromEntries([...list.querySelectorAll('dt')].map((term) => [term.textContent, term.nextElementSibling?.textContent])));
    expect(facts).toMatchObject({
      'Last backup': 'just now',
      Snapshots: '1',
      Connected: 'by hand (its commands were pasted there)',
      System: 'not known',
      'Daily backup': 'not known',
      'On the backup disk': '/annas-laptop/ (server login annas-laptop)',
    });
    expect(facts.Size).toMatch(/^\d+(\.\d+)? KB$/);
    // The restore section holds the restore command; the by-hand commands wait, folded, at the end.
    const restore = page.locator('#restore');
    await restore.getByText('Restore the latest backup into a new folder', { exact: true }).waitFor();
    expect(await page.locator('#by-hand > details').getAttribute('open')).toBeNull();
    expect(await page.locator('#by-hand').getByText('Back up', { exact: false }).first().isVisible()).toBe(false);
    await screenshot(page, '50-computer-page-sections');

    await page.getByRole('button', { name: 'Reset password…' }).click();
    await page.getByRole('alertdialog', { name: "Give Anna's laptop a new password?" }).getByRole('button', { name: 'Yes, new password' }).click();
    const done = page.getByTestId('reset-done');
    await done.waitFor();
    expect(await done.isVisible()).toBe(true);
    expect((await done.innerText()).split('\n').filter(Boolean)).toEqual([
      "Anna's laptop has a new server password. The old one stopped working: Anna's laptop cannot back up until it has the new one. Give it the new one:",
      'Set up by hand: update its password there. The new one is shown once under “By hand” below, inside the commands to paste.',
      "Connected with its line: make a new line under Connect and run it on Anna's laptop; it puts the new password in place by itself.",
    ]);
    // Nothing of it hides in a folded section, and the new password is not on screen until asked for.
    expect(await done.evaluate((element) => element.closest('details'))).toBeNull();
    const password = page.locator('#by-hand code.secret');
    expect(await password.isVisible()).toBe(false);
    const made = (await password.textContent()) ?? '';
    expect(made.length).toBeGreaterThan(10);
    expect(await page.locator('body').innerText()).not.toContain(made);
    await screenshot(page, '51-computer-page-reset-done');
    await page.locator('#by-hand > details > summary').click();
    await page.getByRole('heading', { name: 'Server login for annas-laptop' }).waitFor();
    expect(await password.isVisible()).toBe(true);
    await expect.poll(async () => (await controller.getState()).computers[0]?.username).toBe('annas-laptop');
    expect(errors).toEqual([]);
  });
});
