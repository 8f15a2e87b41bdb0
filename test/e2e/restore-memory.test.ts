import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADDRESS_FILE } from '../../main/headless/gui-access.js';
import { hasChromium, openPage, pageErrorsOf } from '../helpers/browser.js';
import { openController } from '../helpers/controller.js';
import { startHeadlessCli } from '../helpers/headless.js';
import { RESTIC_PASSWORD, resticOk, treeDigest } from '../helpers/restic.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

const MB = 1_000_000;
/** What the issue allows the app while it sends a 300 MB folder: far less than the folder. */
const RSS_LIMIT = 200 * MB;

/** The resident memory of a process now, from /proc. */
function rssOf(pid: number): number {
  const kilobytes = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kilobytes) * 1024;
}

/** The status of a GET of the headless GUI's download route. */
const statusOf = (origin: string, path: string): Promise<number> =>
  new Promise((resolve, reject) =>
    request(`${origin}${path}`, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end(),
  );

describe.runIf(hasChromium() && hasTool('restic') && process.platform === 'linux')('a big folder downloaded through the GUI', () => {
  it('streams a 300 MB folder as .tar, byte for byte, while the app stays under 200 MB of memory', { timeout: 600_000 }, async () => {
    // Headless mode as a process of its own (its memory is the app's alone), on a config folder set up first.
    const configDir = tempDir('rts-config-');
    const data = tempDir('rts-data-');
    const source = tempDir('rts-source-');
    mkdirSync(join(source, 'videos'));
    for (let index = 0; index < 30; index++) writeFileSync(join(source, 'videos', `clip-${index}.bin`), randomBytes(10 * MB));
    const { controller } = await openController({ configDir });
    await controller.setTls({ enabled: false });
    await controller.chooseFolder({ path: data });
    await controller.updateSettings({ setupComplete: true });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    await resticOk(join(data, anna.username), ['init']);
    await resticOk(join(data, anna.username), ['backup', source], { timeoutMs: 300_000 });
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    await controller.close();

    const app = await startHeadlessCli(configDir);
    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(readFileSync(join(configDir, ADDRESS_FILE), 'utf8').trim());
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop/ }).click();
    const section = page.getByRole('region', { name: 'Restore' });
    await section.getByRole('button', { name: /^Open the backup of/ }).click();
    await section.locator('.snapshot-browser').getByRole('button', { name: 'videos', exact: true }).waitFor();

    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(app.pid))), 50);
    const [download, started] = await Promise.all([
      page.waitForEvent('download'),
      page.waitForResponse((response) => response.url().endsWith('/api/startDownload')),
      section.getByRole('button', { name: 'Download this folder (.tar)' }).click(),
    ]);
    const saved = join(tempDir('rts-downloads-'), download.suggestedFilename());
    await download.saveAs(saved);
    clearInterval(sampler);
    await section.getByRole('status').getByText(/^Downloaded .+\.tar \(30\d MB\)\.$/).waitFor();
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(RSS_LIMIT);

    const unpacked = tempDir('rts-unpacked-');
    expect(spawnSync('tar', ['-xf', saved], { cwd: unpacked }).status).toBe(0);
    expect(treeDigest(join(unpacked, source.slice(1)))).toEqual(treeDigest(source));
    expect(basename(saved)).toBe(`${basename(source)}.tar`);
    // The download's address serves once: fetched again, it is gone.
    const { result } = (await started.json()) as { result: { id: string } };
    expect(await statusOf(new URL(page.url()).origin, `/download/${result.id}`)).toBe(404);
    expect(pageErrors).toEqual([]);
    expect(await app.stop()).toBe(0);
  });
});
