import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { waitForState } from '../helpers/controller.js';
import { headless } from '../helpers/headless.js';
import { tempDir } from '../helpers/temp-dir.js';
import { pathWithoutSchedulers, runInTerminal } from '../helpers/terminal.js';
import { hasTool } from '../helpers/tools.js';

describe.runIf(hasChromium() && hasTool('restic') && hasTool('curl') && hasTool('script'))('connecting a computer from the GUI', () => {
  it('from “Add computer” to its first backup: 3 clicks in the app, 1 line and the password answers there, and its server password never on screen', { timeout: 180_000 }, async () => {
    const { controller, bridge, bugs } = await headless();
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    await controller.startServer();
    await controller.updateSettings({ setupComplete: true });
    await waitForState(controller, (state) => state.status === 'serving');

    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Computers' }).click();
    const shown: string[] = [];
    const look = async () => shown.push(await page.locator('body').innerText());
    let clicks = 0;
    const click = async (target: Locator) => {
      clicks += 1;
      await target.click();
      await look();
    };

    await page.getByLabel('Name').fill("Anna's laptop");
    await click(page.getByRole('button', { name: 'Add computer' }));
    await click(page.getByRole('button', { name: 'Make the line' }));
    const block = page.locator('.code-block', { hasText: "Run this on Anna's laptop" });
    const line = (await block.locator('code').textContent()) ?? '';
    await click(block.getByRole('button', { name: 'Copy the line' }));
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(line);
    await screenshot(page, '36-connect-line');

    // On Anna's laptop: the line, then the encryption password twice.
    const home = tempDir('rts-home-');
    mkdirSync(join(home, 'Documents'));
    writeFileSync(join(home, 'Documents', 'letter.txt'), 'Dear grandma,\n');
    // A computer with no scheduler (no systemd, no cron): the app says it backs up only when run by hand.
    const ran = await runInTerminal(line, home, ['a long family secret', 'a long family secret', 'n'], `${join(home, '.local', 'bin')}:${pathWithoutSchedulers()}`);
    expect(ran.code, ran.output).toBe(0);
    const backedUp = await waitForState(controller, (state) => state.computers[0]?.snapshots === 1, 30_000);
    expect(backedUp.computers[0]?.connectedAt).not.toBeNull();
    const status = page.getByTestId('computer-status');
    await expect.poll(() => status.textContent()).toContain('Snapshots1Connectedwith its set-up line, just nowSystemLinuxrestic0.14.0Daily backupnot scheduled');
    await page.getByText("The line was used: Anna's laptop fetched its set-up just now.").waitFor();
    expect(await block.count()).toBe(0);
    await look();
    await page.getByText("Not scheduled: Anna's laptop backs up only when run by hand (its set-up found no scheduler there). Run restic-tray-backup backup on that computer now and then, or install cron there and connect it again.").waitFor();
    await screenshot(page, '37-connected');

    expect(clicks).toBeLessThanOrEqual(3);
    const repository = readFileSync(join(home, '.config', 'restic-tray-server', 'repository'), 'utf8');
    const password = /^rest:https:\/\/annas-laptop:([\w-]+)@/.exec(repository)?.[1] ?? '';
    expect(password.length).toBeGreaterThan(10);
    expect(shown.filter((text) => text.includes(password))).toEqual([]);

    // Windows gets a PowerShell line; the set-up file downloads the same set-up for a USB stick.
    await page.locator('#connect').getByRole('tab', { name: 'Windows' }).click();
    await page.getByRole('button', { name: 'Make the line' }).click();
    expect(await page.locator('.code-block', { hasText: "Run this on Anna's laptop" }).locator('code').textContent()).toMatch(/^& \{ \$ErrorActionPreference = 'Stop'; .*\[RtsSetupFetch\]::Get\('https:\/\/[\d.]+:\d+\/\.connect\/[a-z2-9]{20}\/ps1', '[0-9A-F]{64}'\)\) \}$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save the set-up file' }).click()]);
    expect(download.suggestedFilename()).toBe('restic-tray-setup-annas-laptop.ps1');
    await page.getByText('Saved restic-tray-setup-annas-laptop.ps1. On Anna\'s laptop, right-click it and choose Run with PowerShell').waitFor();
    await screenshot(page, '38-connect-windows');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByTestId('computer-annas-laptop').getByText('not scheduled: backs up only when run by hand').waitFor();
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
