import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import type { Controller } from '../../main/control/controller.js';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { setUpHeadless } from '../helpers/headless.js';
import { RESTIC_PASSWORD, resticOk, treeDigest } from '../helpers/restic.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

const resticTime = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');

/** The restic processes running now against `repo`. */
const resticProcesses = (repo: string): string[] =>
  execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((args) => args.includes(repo) && /restic/.test(args));

/** Saves what the browser downloads when `click` runs, and gives its bytes. */
async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const saved = join(tempDir('rts-downloads-'), download.suggestedFilename());
  await download.saveAs(saved);
  return { name: download.suggestedFilename(), bytes: readFileSync(saved) };
}

/** Unpacks a .tar or .zip and gives the digest of what is in it under `inside`. */
function unpacked(name: string, bytes: Buffer, inside: string): Record<string, string> {
  const folder = tempDir('rts-unpacked-');
  writeFileSync(join(folder, name), bytes);
  const unpack = name.endsWith('.tar') ? spawnSync('tar', ['-xf', name], { cwd: folder }) : spawnSync('python3', ['-m', 'zipfile', '-e', name, '.'], { cwd: folder });
  expect(unpack.status, String(unpack.stderr)).toBe(0);
  return treeDigest(join(folder, inside));
}

/** Headless mode with Anna's laptop backed up three times by restic (the recipe changed each time) and its password kept; with `big`, a sparse 4 GiB file too. */
async function annasBackups(big: boolean): Promise<{ controller: Controller; url: string; bugs: unknown[]; repo: string; source: string; data: string }> {
  const { bridge, controller, bugs, data, computers: [anna] } = await setUpHeadless({ tls: false, computers: ["Anna's laptop"], serve: false });
  const repo = join(data, anna.username);
  await resticOk(repo, ['init']);
  const source = tempDir('rts-source-');
  mkdirSync(join(source, 'photos', 'summer'), { recursive: true });
  writeFileSync(join(source, 'photos', 'summer', 'beach.jpg'), randomBytes(400_000));
  writeFileSync(join(source, 'photos', 'cat.jpg'), randomBytes(90_000));
  if (big) {
    mkdirSync(join(source, 'letters'));
    for (let index = 0; index < 600; index++) writeFileSync(join(source, 'letters', `letter-${index}.txt`), `letter ${index}`);
    // A sparse file: restic dumps gigabytes of zeros, long enough to cancel.
    writeFileSync(join(source, 'disk.img'), '');
    truncateSync(join(source, 'disk.img'), 4 * 2 ** 30);
  }
  const times = [new Date('2026-09-12T09:00:00Z'), new Date('2026-10-20T09:00:00Z'), new Date('2026-11-28T09:00:00Z')];
  for (const [index, time] of times.entries()) {
    writeFileSync(join(source, 'recipe.txt'), `Grandma's cake, version ${index + 1}`);
    await resticOk(repo, ['backup', '--host', 'annas-laptop', '--time', resticTime(time), source], { timeoutMs: 600_000 });
  }
  await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
  return { controller, url: bridge.url, bugs, repo, source, data };
}

describe.runIf(hasChromium() && hasTool('restic'))('restoring from the desktop, in the browser', () => {
  it('lists, filters, browses and searches the backups; downloads a file, a .tar and a .zip byte for byte; cancels a download; restores without overwriting', { timeout: 600_000 }, async () => {
    const { url, bugs, repo, source } = await annasBackups(true);
    const page = await openPage();
    const pageErrors = pageErrorsOf(page, { consoleErrors: false });
    await page.goto(url);
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop/ }).click();
    const section = page.getByRole('region', { name: 'Restore' });
    const snapshots = section.locator('.snapshot-list tbody tr');
    await expect.poll(() => snapshots.count(), { timeout: 30_000 }).toBe(3);
    expect(await snapshots.first().textContent()).toContain('annas-laptop');

    await section.getByLabel('Backups from').fill('2026-10-01');
    await section.getByLabel('until').fill('2026-10-31');
    await expect.poll(() => snapshots.count()).toBe(1);
    await section.getByLabel('Backups from').fill('');
    await section.getByLabel('until').fill('');
    await expect.poll(() => snapshots.count()).toBe(3);

    await section.getByLabel('Find a file by name').fill('recipe');
    await section.getByRole('button', { name: 'Find' }).click();
    const found = section.getByRole('region', { name: 'Files found' });
    await found.getByText('3 versions found.').waitFor({ timeout: 30_000 });
    expect(await found.locator('tbody tr').count()).toBe(3);
    await screenshot(page, '60-restore-search');
    const oldest = await downloaded(page, () => found.locator('tbody tr').last().getByRole('button', { name: 'Download' }).click());
    expect(oldest).toMatchObject({ name: 'recipe.txt' });
    expect(oldest.bytes.toString()).toBe("Grandma's cake, version 1");

    await section.getByRole('button', { name: /^Open the backup of/ }).first().click();
    const browser = section.locator('.snapshot-browser');
    await browser.getByRole('button', { name: 'photos', exact: true }).click();
    await browser.getByRole('button', { name: 'Download cat.jpg' }).waitFor();
    await screenshot(page, '61-restore-browse');
    const cat = await downloaded(page, () => browser.getByRole('button', { name: 'Download cat.jpg' }).click());
    expect(cat.bytes.equals(readFileSync(join(source, 'photos', 'cat.jpg')))).toBe(true);
    await section.getByRole('status', { name: 'Downloading cat.jpg' }).getByText(/^Downloaded cat\.jpg/).waitFor();
    await section.getByRole('status', { name: 'Downloading cat.jpg' }).getByRole('button', { name: 'Close' }).click();
    for (const format of ['tar', 'zip']) {
      const folder = await downloaded(page, () => browser.getByRole('button', { name: `Download this folder (.${format})` }).click());
      expect(folder.name).toBe(`photos.${format}`);
      expect(unpacked(folder.name, folder.bytes, join(source.slice(1), 'photos'))).toEqual(treeDigest(join(source, 'photos')));
      await section.getByRole('status').getByRole('button', { name: 'Close' }).click();
    }

    // A folder of 600 files, a page of 500 at a time.
    await browser.getByRole('navigation', { name: 'Folder' }).getByRole('button', { name: basename(source), exact: true }).click();
    await browser.getByRole('button', { name: 'letters', exact: true }).click();
    await browser.getByText('1–500 of 600').waitFor();
    expect(await browser.locator('tbody tr').count()).toBe(500);
    await browser.getByRole('button', { name: 'Next →' }).click();
    await browser.getByText('501–600 of 600').waitFor();
    expect(await browser.locator('tbody tr').count()).toBe(100);
    await screenshot(page, '68-restore-pages');
    await browser.getByRole('button', { name: '← Previous' }).click();
    await browser.getByText('1–500 of 600').waitFor();
    expect(await browser.locator('tbody tr').first().textContent()).toContain('letter-0.txt');

    // A long download, cancelled on the page: restic stops, and the browser's download fails rather than ending as if whole.
    await browser.getByRole('navigation', { name: 'Folder' }).getByRole('button', { name: basename(source), exact: true }).click();
    const [slow] = await Promise.all([page.waitForEvent('download'), browser.getByRole('button', { name: 'Download disk.img' }).click()]);
    const progress = section.getByRole('status', { name: 'Downloading disk.img' });
    await progress.getByText(/ of about 4\.\d GB/).waitFor({ timeout: 30_000 });
    await screenshot(page, '62-restore-download-progress');
    expect(resticProcesses(repo).some((args) => args.includes(' dump '))).toBe(true);
    await progress.getByRole('button', { name: 'Cancel' }).click();
    await progress.getByText('Cancelled.').waitFor();
    expect(await slow.failure()).not.toBeNull();
    await vi.waitFor(() => expect(resticProcesses(repo)).toEqual([]), { timeout: 15_000, interval: 100 });
    await progress.getByRole('button', { name: 'Close' }).click();

    // Restore "photos" into a folder that already has a photos/cat.jpg of its own.
    const target = tempDir('rts-restored-');
    mkdirSync(join(target, 'photos'));
    writeFileSync(join(target, 'photos', 'cat.jpg'), 'the cat as drawn since');
    await browser.getByRole('button', { name: 'Restore photos' }).click();
    const into = section.getByRole('region', { name: 'Where to restore' });
    await into.getByLabel('Folder').fill(target);
    await into.getByRole('button', { name: 'Open' }).click();
    await into.locator('.picker-choose code').getByText(target, { exact: true }).waitFor();
    await screenshot(page, '63-restore-into');
    await into.getByRole('button', { name: 'Restore here' }).click();
    const restored = section.getByRole('status', { name: 'Restoring photos' });
    await restored.getByText(`Restored 1 file (400 KB) into ${join(target, 'photos')}. 1 file was already there and was left as it was.`).waitFor({ timeout: 60_000 });
    await screenshot(page, '64-restore-done');
    expect(readFileSync(join(target, 'photos', 'cat.jpg'), 'utf8')).toBe('the cat as drawn since');
    expect(readFileSync(join(target, 'photos', 'summer', 'beach.jpg')).equals(readFileSync(join(source, 'photos', 'summer', 'beach.jpg')))).toBe(true);
    expect(readdirSync(target)).toEqual(['photos']);
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it('the emergency sheet asks first, shows the kept password, and its command restores the computer’s files as printed', { timeout: 300_000 }, async () => {
    const { controller, url, bugs, data, source } = await annasBackups(false);
    await controller.addComputer({ displayName: 'Bea’s desktop' });
    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(url);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Print the emergency sheet…' }).click();
    await page.getByRole('alertdialog', { name: 'Show the emergency sheet with the encryption passwords?' }).waitFor();
    expect(await page.getByText(RESTIC_PASSWORD).count()).toBe(0);
    await page.getByRole('button', { name: 'Show it' }).click();
    const sheet = page.getByRole('article', { name: 'Emergency sheet' });
    const anna = sheet.getByRole('region', { name: "Anna's laptop" });
    await anna.getByText(RESTIC_PASSWORD).waitFor();
    const bea = sheet.getByRole('region', { name: 'Bea’s desktop' });
    await bea.getByText('not kept on this desktop: ask the person who set up Bea’s desktop.').waitFor();
    await bea.getByText('There are no backups of Bea’s desktop on the disk yet.').waitFor();
    await sheet.getByText(data, { exact: true }).first().waitFor();
    await screenshot(page, '65-emergency-sheet');
    await page.emulateMedia({ media: 'print' });
    await screenshot(page, '66-emergency-sheet-print');
    await page.emulateMedia({ media: 'screen' });

    const command = (await anna.locator('pre code').first().textContent()) as string;

    // Bea's page says why there is nothing to restore there yet, and what to do.
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Bea’s desktop/ }).click();
    await page
      .getByRole('region', { name: 'Restore' })
      .getByText('To get files back from Bea’s desktop’s backups on this desktop, keep its encryption password first (“Keep the encryption password” under Looking after the backups, below): restic needs it to read the backups.')
      .waitFor();
    await screenshot(page, '67-restore-not-kept');

    const home = tempDir('rts-home-');
    const typed = spawnSync('bash', ['-c', command], { env: { PATH: process.env.PATH, HOME: home }, input: `${RESTIC_PASSWORD}\n`, encoding: 'utf8', timeout: 300_000 });
    expect(typed.status, typed.stderr).toBe(0);
    const restored = readdirSync(home).filter((name) => name.startsWith('restored-'));
    expect(restored).toEqual([expect.stringMatching(/^restored-annas-laptop/)]);
    expect(treeDigest(join(home, restored[0] as string, source))).toEqual(treeDigest(source));
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
