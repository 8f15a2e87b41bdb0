import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { headless } from '../helpers/headless.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Headless mode set up and serving (plain HTTP) on a fresh folder, with these computers added and none backed up. */
async function servingWith(names: string[], folder = tempDir('rts-data-')) {
  const opened = await headless();
  await opened.controller.chooseFolder({ path: folder });
  await opened.controller.setTls({ enabled: false });
  for (const displayName of names) await opened.controller.addComputer({ displayName });
  await opened.controller.updateSettings({ setupComplete: true });
  await opened.controller.startServer();
  return opened;
}

describe.runIf(hasChromium())('every screen says what is true', () => {
  it('right after set-up the dashboard counts the computers not connected yet and links to each one’s page', { timeout: 60_000 }, async () => {
    const { bridge } = await servingWith(["Anna's laptop", 'Bob’s desktop']);
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
});
