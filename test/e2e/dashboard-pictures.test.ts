import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { backedUpLaptop, paste } from '../helpers/client-computer.js';
import { waitForState } from '../helpers/controller.js';
import { headless } from '../helpers/headless.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { canMount, hasTool } from '../helpers/tools.js';

const DAY_MS = 86_400_000;
/** A moment's day in this computer's calendar, as the app records backup days. */
const dayOf = (ms: number): string => {
  const date = new Date(ms);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
};

describe.runIf(hasChromium() && hasTool('restic') && hasTool('rclone') && canMount())('the dashboard’s pictures', () => {
  it('a strip of each computer’s last 30 days, the disk’s use over time with a forecast, the offsite copy and the last check in one line each: numbers in the state and in words for screen readers', { timeout: 180_000 }, async () => {
    // Days pass on the app's clock: noon today, then 4, 7 and 10 days later.
    const today = new Date();
    let clock = new Date(today.getFullYear(), today.getMonth(), today.getDate(), 12).getTime();
    const start = clock;
    const disk = new FakeUsbDisk(64);
    const { controller, bridge, configDir } = await headless({ now: () => clock });
    await controller.chooseFolder({ path: disk.mountPoint });
    await controller.updateSettings({ setupComplete: true });
    await controller.startServer();
    await waitForState(controller, (state) => state.status === 'serving' || state.status === 'attention');

    // Anna backs up on days 0, 4 and 7, two more megabytes each time; Bob never does.
    const { anna, source, home, lines } = await backedUpLaptop(controller, 1, 2_000_000);
    await controller.addComputer({ displayName: 'Bob’s desktop' });
    await controller.getState();
    for (const day of [4, 7]) {
      clock = start + day * DAY_MS;
      writeFileSync(join(source, `day-${day}.bin`), randomBytes(2_000_000));
      await paste(lines, 'backup', home);
      await waitForState(controller, (state) => state.computers[0]?.lastDays.at(-1)?.arrived === true);
    }
    clock = start + 10 * DAY_MS;
    const state = await controller.getState();

    const [annaNow, bobNow] = state.computers;
    expect(annaNow?.lastDays).toHaveLength(30);
    expect(annaNow?.lastDays.at(-1)?.day).toBe(dayOf(clock));
    expect(annaNow?.lastDays.filter((day) => day.arrived).map((day) => day.day)).toEqual([dayOf(start), dayOf(start + 4 * DAY_MS), dayOf(start + 7 * DAY_MS)]);
    expect(annaNow?.lastDays.filter((day) => day.arrived === false)).toHaveLength(8);
    expect(annaNow?.lastDays.filter((day) => day.arrived === null)).toHaveLength(19);
    expect(bobNow?.lastDays.filter((day) => day.arrived !== null).every((day) => day.arrived === false)).toBe(true);
    // The days are kept in the settings, so they outlive a restart.
    const saved = () => (JSON.parse(readFileSync(join(configDir, 'settings.json'), 'utf8')) as { computers: { username: string; backupDays?: string[] }[] }).computers;
    await expect.poll(() => saved().find((computer) => computer.username === anna.username)?.backupDays).toEqual([dayOf(start), dayOf(start + 4 * DAY_MS), dayOf(start + 7 * DAY_MS)]);

    // One measurement of the disk a day it was looked at; it grew with each backup.
    const usage = state.storage?.usage ?? [];
    expect(usage.map((sample) => sample.day)).toEqual([0, 4, 7, 10].map((day) => new Date(start + day * DAY_MS).toISOString().slice(0, 10)));
    expect(usage[1]?.usedBytes).toBeGreaterThan((usage[0]?.usedBytes ?? 0) + 1_500_000);
    expect(usage[2]?.usedBytes).toBeGreaterThan((usage[1]?.usedBytes ?? 0) + 1_500_000);
    expect(state.storage?.trend).toMatch(/^Grows about \d+(\.\d)? MB a week: full in about \d+ (days|weeks|months) at this pace\.$/);

    // The copy and the check, each in one line.
    await controller.setOffsite({ remote: tempDir('rts-copy-') });
    await controller.copyOffsiteNow();
    await waitForState(controller, (next) => next.offsite.lastCopyAt !== null && next.offsite.running === null, 60_000);
    await controller.checkIntegrity();
    await waitForState(controller, (next) => next.integrity.running === null && next.integrity.disks.some((one) => one.lastCheckedAt !== null), 60_000);

    const page = await openPage();
    const errors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const annaStrip = page.getByTestId(`days-${anna.username}`);
    expect(await annaStrip.getByRole('img').getAttribute('aria-label')).toBe("Anna's laptop: Backups on 3 of the 11 days since it was added.");
    expect(await page.getByTestId('days-bobs-desktop').getByRole('img').getAttribute('aria-label')).toBe('Bob’s desktop: Backups on 0 of the 11 days since it was added.');
    expect([await annaStrip.locator('.day-backup').count(), await annaStrip.locator('.day-missed').count(), await annaStrip.locator('.day-before').count()]).toEqual([3, 8, 19]);
    expect(await page.getByTestId('disk-usage-chart').getAttribute('aria-label')).toMatch(/^Disk use over the last 10 days: \d+(\.\d)? MB used on .+, \d+(\.\d)? MB now, of \d+(\.\d)? MB\.$/);
    expect(await page.getByTestId('disk-trend').textContent()).toBe(state.storage?.trend);
    const offsite = (await controller.getState()).offsite.target?.where;
    expect(await page.getByTestId('offsite-line').textContent()).toBe(`Offsite copy to ${offsite}: the last complete copy was just now.`);
    expect(await page.getByTestId('integrity-line').textContent()).toBe('Integrity check: the last full check was just now, nothing damaged.');
    await screenshot(page, '52-dashboard-pictures');
    await screenshot(await openDark(bridge.url), '53-dashboard-pictures-dark');
    expect(errors).toEqual([]);
  });
});

async function openDark(url: string) {
  const page = await openPage({ colorScheme: 'dark' });
  await page.goto(url);
  await page.getByTestId('disk-usage-chart').waitFor();
  return page;
}
