import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { makeCertificates } from '../helpers/certs.js';
import { runBash } from '../helpers/controller.js';
import { headless } from '../helpers/headless.js';
import { makeSourceTree, RESTIC_PASSWORD } from '../helpers/restic.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { tempDir } from '../helpers/temp-dir.js';
import { canMount, hasTool } from '../helpers/tools.js';

const clipboard = (page: Page) => page.evaluate('navigator.clipboard.readText()') as Promise<string>;

/** What a copy button of the by-hand commands put on the clipboard (each copy differs from the one before). */
async function copy(page: Page, name: string): Promise<string> {
  const before = await clipboard(page);
  await page.locator('#by-hand').getByRole('button', { name: `Copy ${name}`, exact: true }).click();
  await expect.poll(() => clipboard(page)).not.toBe(before);
  return clipboard(page);
}

async function sh(script: string, home: string) {
  return runBash(script, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') }, 180_000);
}

describe.runIf(hasChromium() && hasTool('restic') && canMount())('the GUI, driven like a person', () => {
  it('from a fresh install to a first backup; append-only refuses forget; an unplugged disk turns it red, then back', { timeout: 300_000 }, async () => {
    const disk = new FakeUsbDisk(64);
    const { bridge, bugs } = await headless();
    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(bridge.url);

    // 1. The disk.
    await page.getByRole('heading', { name: '1. Where should the backups go?' }).waitFor();
    await page.getByRole('button', { name: /System disk/ }).waitFor();
    await screenshot(page, '01-setup-disk');
    await page.getByLabel('Folder', { exact: true }).fill(disk.mountPoint);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await expect.poll(() => page.locator('.picker-choose code').textContent()).toBe(disk.mountPoint);
    await page.getByRole('button', { name: 'Use this folder' }).click();

    // 2. A computer: its login is made, and its password is not shown (its page connects it).
    await page.getByRole('heading', { name: '2. Which computers will back up here?' }).waitFor();
    await page.getByLabel('Computer name').fill("Anna's laptop");
    await page.getByRole('button', { name: 'Add computer' }).click();
    await page.getByText('(annas-laptop)').waitFor();
    await screenshot(page, '02-setup-computers');
    await page.getByRole('button', { name: 'Next' }).click();

    // 3. Security: TLS and append-only are on by default.
    await page.getByRole('heading', { name: '3. How safe should it be?' }).waitFor();
    expect(await page.getByRole('switch', { name: /Encrypt connections/ }).isChecked()).toBe(true);
    expect(await page.getByRole('switch', { name: /Append-only for family computers/ }).isChecked()).toBe(true);
    await screenshot(page, '03-setup-security');
    await page.getByRole('button', { name: 'Next' }).click();

    // 4. Start.
    await page.getByRole('heading', { name: '4. Start serving' }).waitFor();
    // Headless mode cannot start with the computer, so it does not offer to.
    await page.getByText(/In headless mode the server runs as long as this program runs/).waitFor();
    expect(await page.getByRole('switch', { name: 'Start with this computer' }).count()).toBe(0);
    await screenshot(page, '04-setup-start');
    await page.getByRole('button', { name: 'Start the server' }).click();

    // The computer's commands by hand, with the password still at hand.
    await page.getByText(/Set Anna's laptop up by hand/).click();
    await page.getByRole('heading', { name: "Commands for Anna's laptop" }).waitFor();
    await screenshot(page, '05-computer-commands');
    const home = tempDir('rts-anna-home-');
    mkdirSync(join(home, '.config', 'restic'), { recursive: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#by-hand').getByRole('button', { name: 'Save restic-tray-server-ca.pem' }).click()]);
    await download.saveAs(join(home, '.config', 'restic', 'restic-tray-server-ca.pem'));
    const setup = await copy(page, 'set-up');
    const init = await copy(page, 'init');
    const backup = await copy(page, 'backup');
    const forget = await copy(page, 'forget');
    expect(setup).toMatch(/^# Restic Tray Server: backups of Anna's laptop\nexport RESTIC_REPOSITORY='rest:https:\/\/annas-laptop:[\w-]+@127\.0\.0\.2:\d+\/annas-laptop\/'$/);
    const source = makeSourceTree(6, 40_000);
    await runBash(`cp -r ${source} "$HOME/Documents"`, { HOME: home });

    expect((await sh(`${setup}\n${init}`, home)).code).toBe(0);
    const backedUp = await sh(`${setup}\n${backup}`, home);
    expect(backedUp.stderr).toBe('');
    expect(backedUp.code).toBe(0);

    // The dashboard shows the backup.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const row = page.getByTestId('computer-annas-laptop');
    await expect.poll(() => row.locator('td').first().textContent(), { timeout: 15_000 }).toBe('just now');
    expect(await row.locator('td').nth(2).textContent()).toBe('1');
    expect(await page.locator('.status').getAttribute('class')).toContain('status-green');
    await screenshot(page, '06-dashboard');

    // The live log shows its requests, and what they mean.
    await page.getByRole('link', { name: 'Live log' }).click();
    await page.getByRole('tab', { name: 'Requests' }).click();
    await page.locator('.log-table td', { hasText: "Anna's laptop" }).first().waitFor();
    expect(await page.locator('.log-table td', { hasText: 'upload' }).count()).toBeGreaterThan(3);
    await screenshot(page, '07-live-log');
    await page.getByRole('tab', { name: 'Summary' }).click();
    await page.getByText(/Anna's laptop: backup finished, .* uploaded\./).waitFor();
    await screenshot(page, '08-live-log-summary');

    // Append-only, switched off and on again on the page: restic forget --prune is refused.
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop/ }).click();
    expect(await page.getByTestId('computer-status').textContent()).toContain('Snapshots1');
    const appendOnly = page.getByRole('switch', { name: /^Append-only/ });
    const saved = () => expect.poll(() => appendOnly.getAttribute('aria-busy')).toBe('false');
    await appendOnly.uncheck();
    await saved();
    await appendOnly.check();
    await saved();
    expect(await appendOnly.isChecked()).toBe(true);
    // A second backup the same day: the forget policy (one a day) would remove the first.
    expect((await sh(`${setup}\n${backup}`, home)).code).toBe(0);
    const refused = await sh(`${setup}\n${forget}`, home);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/403|Forbidden/);
    await page.getByRole('link', { name: 'Live log' }).click();
    await page.getByRole('tab', { name: 'Requests' }).click();
    await page.getByLabel('Errors only').check();
    await expect.poll(() => page.locator('.log-table tbody tr.failed').count()).toBeGreaterThan(0);
    expect(await page.locator('.log-table tbody tr:not(.failed)').count()).toBe(0);
    expect(await page.locator('.log-table tbody tr.failed td').nth(4).textContent()).toBe('403');
    await screenshot(page, '09-live-log-refused');

    // The disk is pulled out: red, with the reason; back in: green again.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    disk.unplug();
    await expect.poll(() => page.getByTestId('status-sentence').textContent(), { timeout: 15_000 }).toMatch(/^The backup disk “usb” is not connected\. Plug it in: backups resume by themselves\.$/);
    expect(await page.locator('.status').getAttribute('class')).toContain('status-red');
    expect(await row.locator('td').nth(2).textContent()).toBe('2');
    await screenshot(page, '10-dashboard-disk-missing');
    disk.plug();
    await expect.poll(() => page.locator('.status').getAttribute('class'), { timeout: 15_000 }).toContain('status-green');

    for (const [link, name] of [
      ['Storage', '11-storage'],
      ['Security', '12-security'],
      ['Settings', '13-settings'],
    ] as const) {
      await page.getByRole('link', { name: link }).click();
      await page.getByRole('heading', { name: link, level: 1 }).waitFor();
      await screenshot(page, name);
    }
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it('security: an own certificate is checked before use, and the maintenance login gets its commands', async () => {
    const { bridge, controller } = await headless();
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    await controller.addComputer({ displayName: 'Carla' });
    await controller.updateSettings({ setupComplete: true });
    await controller.startServer();
    const page = await openPage();
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByText('Use your own certificate').click();
    const own = makeCertificates('Own');
    await page.getByLabel('Certificate (PEM)').setInputFiles(own.certFile);
    await page.getByLabel('Private key (PEM, not encrypted)').setInputFiles(makeCertificates('Other').keyFile);
    await page.getByRole('button', { name: 'Use these files' }).click();
    await page.getByRole('alert').filter({ hasText: 'The private key does not belong to this certificate.' }).waitFor();
    await page.getByLabel('Private key (PEM, not encrypted)').setInputFiles(own.keyFile);
    await page.getByRole('button', { name: 'Use these files' }).click();
    const fingerprint = new X509Certificate(readFileSync(own.certFile)).fingerprint256;
    await expect.poll(() => page.getByTestId('fingerprint').textContent(), { timeout: 15_000 }).toBe(fingerprint);
    await page.getByRole('button', { name: 'Use the household certificate' }).click();
    await expect.poll(() => page.getByTestId('fingerprint').textContent(), { timeout: 15_000 }).not.toBe(fingerprint);

    await page.getByRole('button', { name: 'Create the maintenance login' }).click();
    await page.getByRole('heading', { name: 'Server login for maintenance' }).waitFor();
    const password = await page.locator('.password-once .secret').textContent();
    await page.getByLabel('Clean up the backups of').selectOption({ label: 'Carla' });
    await expect.poll(() => page.locator('.code-block pre').first().textContent()).toContain(`rest:https://maintenance:${password}@127.0.0.2:`);
    expect(await page.locator('.code-block pre').first().textContent()).toContain('/carla/');
    await screenshot(page, '15-security-maintenance');
  });

  it('follows the system’s dark theme', async () => {
    const { bridge, controller } = await headless();
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    await controller.addComputer({ displayName: 'Bob’s desktop' });
    await controller.updateSettings({ setupComplete: true });
    await controller.startServer();
    const page = await openPage({ colorScheme: 'dark' });
    await page.goto(bridge.url);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const background = await page.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    expect(background).toBe('rgb(15, 20, 26)');
    await screenshot(page, '14-dashboard-dark');
  });
});
