import { randomBytes } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppState, ComputerCare, Summary } from '../../../../main/contract.js';
import { formatBytes } from '../../../../main/common/format-bytes.js';
import { SETTINGS_FILE } from '../../../../main/control/core/settings.js';
import { CARE_RECORD_NAME } from '../../../../server/care-record.js';
import { openController, waitForState } from '../../../helpers/controller.js';
import { callGui, startHeadlessCli } from '../../../helpers/headless.js';
import { RESTIC_PASSWORD, resticOk } from '../../../helpers/restic.js';
import { startServer } from '../../../helpers/running-server.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

const DAY_MS = 86_400_000;
/** restic's --time: local time, `YYYY-MM-DD hh:mm:ss`. */
const resticTime = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');
const DEFAULT_FLAGS = ['--keep-within', '2d', '--keep-daily', '7', '--keep-weekly', '5', '--keep-monthly', '12', '--keep-yearly', '3'];

/** Every file under a folder, with its content. */
function filesUnder(folder: string): { path: string; content: Buffer }[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ path, content: readFileSync(path) }));
}

/** About 60 backups over four months: each one a new file of its own (so that forgetting a backup frees its file) and a file that stays. */
export async function fourMonthsOfBackups(repo: string, count = 60): Promise<void> {
  const source = tempDir('rts-source-');
  writeFileSync(join(source, 'stays.bin'), randomBytes(64 << 10));
  const now = Date.now();
  for (let index = 0; index < count; index++) {
    for (const old of readdirSync(source).filter((name) => name.startsWith('day-'))) rmSync(join(source, old));
    writeFileSync(join(source, `day-${index}.bin`), randomBytes(32 << 10));
    const time = new Date(now - (count - 1 - index) * 2 * DAY_MS - 3_600_000);
    await resticOk(repo, ['backup', '--host', 'annas-laptop', '--time', resticTime(time), source]);
  }
}

const snapshotIds = async (repo: string) => (JSON.parse(await resticOk(repo, ['snapshots', '--json'])) as { id: string }[]).map((snapshot) => snapshot.id).sort();

const careOf = (state: AppState, username: string) => state.caretaker.computers.find((care) => care.username === username) as ComputerCare;

describe.runIf(hasTool('restic'))('the desktop runs the retention policy and the check with real restic', () => {
  it('60 backups over four months: the kept set is restic’s own decision, space is freed (page, forecast, metrics), check --read-data passes; no password anywhere', { timeout: 300_000 }, async () => {
    const { controller, configDir } = await openController();
    const states: AppState[] = [];
    const summaries: Summary[] = [];
    controller.on('state', (state) => states.push(state));
    controller.on('summary', (summary) => summaries.push(summary));
    const data = tempDir('rts-data-');
    await controller.chooseFolder({ path: data });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const repo = join(data, anna.username);
    await resticOk(repo, ['init']);
    await fourMonthsOfBackups(repo);

    await expect(controller.runRetention({ username: anna.username })).rejects.toMatchObject({
      code: 'not-kept',
      message: "Keep the encryption password of Anna's laptop first: restic needs it to open its backups.",
    });
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    const before = careOf(await controller.getState(), anna.username);
    expect(before).toMatchObject({ policy: { withinDays: 2, daily: 7, weekly: 5, monthly: 12, yearly: 3 }, preset: 'standard', running: null, lastRetention: null, lastCheck: null });

    const own = JSON.parse(await resticOk(repo, ['forget', '--dry-run', '--no-lock', '--json', ...DEFAULT_FLAGS])) as { keep: { id: string }[] | null; remove: { id: string }[] | null }[];
    const ownKeep = own.flatMap((group) => (group.keep ?? []).map((snapshot) => snapshot.id)).sort();
    const ownRemove = own.flatMap((group) => group.remove ?? []);
    expect(ownRemove.length).toBeGreaterThan(20);
    const preview = await controller.previewRetention({ username: anna.username });
    expect(preview.forget).toHaveLength(ownRemove.length);
    expect(preview.freedBytes).toBeGreaterThan(ownRemove.length * (30 << 10));

    await controller.runRetention({ username: anna.username });
    const after = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastRetention !== null, 120_000), anna.username);
    expect(after.lastRetention).toMatchObject({ ok: true, removed: ownRemove.length, problem: null });
    expect(after.lastRetention?.freedBytes).toBeGreaterThan(ownRemove.length * (30 << 10));
    expect(await snapshotIds(repo)).toEqual(ownKeep);
    await resticOk(repo, ['check', '--read-data']);
    expect(summaries.map((summary) => summary.message)).toContain(`Retention for Anna's laptop: ${ownRemove.length} old backups removed, ${formatBytes(after.lastRetention?.freedBytes ?? 0)} freed.`);

    // The space freed is kept with today's disk measurement, for the forecast.
    const settings = JSON.parse(readFileSync(join(configDir, SETTINGS_FILE), 'utf8')) as { disks: { usage: { freedBytes?: number }[] }[] };
    expect(settings.disks[0]?.usage.at(-1)?.freedBytes).toBe(after.lastRetention?.freedBytes);

    // This month's twelfth of the data, checked by restic.
    await controller.checkBackups({ username: anna.username });
    const checked = careOf(await waitForState(controller, (state) => careOf(state, anna.username).lastCheck !== null, 120_000), anna.username);
    expect(checked.lastCheck).toMatchObject({ outcome: 'ok', subset: `${new Date().getUTCMonth() + 1}/12`, problem: null });

    // /metrics of a server on the same folder reads the disk's record.
    expect(readdirSync(data)).toContain(CARE_RECORD_NAME);
    const server = await startServer({ path: data, prometheus: { noAuth: true } });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain(`rest_server_retention_snapshots_removed{repo="${anna.username}"} ${ownRemove.length}`);
    expect(metrics).toContain(`rest_server_retention_freed_bytes{repo="${anna.username}"} ${after.lastRetention?.freedBytes}`);
    expect(metrics).toContain(`rest_server_retention_last_run_timestamp_seconds{repo="${anna.username}"} ${Math.floor(Date.parse(after.lastRetention?.at as string) / 1000)}`);
    expect(metrics).toContain(`rest_server_check_last_ok{repo="${anna.username}"} 1`);
    expect(metrics).toContain(`rest_server_check_last_timestamp_seconds{repo="${anna.username}"} ${Math.floor(Date.parse(checked.lastCheck?.at as string) / 1000)}`);

    // The password: in no state, summary, request or file of the config folder but its sealed store.
    const published = JSON.stringify([states, summaries, await controller.recentSummaries(), await controller.recentRequests({}), await controller.getState()]);
    expect(published).not.toContain(RESTIC_PASSWORD);
    expect(filesUnder(configDir).filter((file) => file.content.includes(RESTIC_PASSWORD)).map((file) => file.path)).toEqual([]);
    expect(filesUnder(data).filter((file) => file.content.includes(RESTIC_PASSWORD)).map((file) => file.path)).toEqual([]);
  });

  it('a policy of its own is saved, named by its preset, used by the preview; the default is not written', { timeout: 120_000 }, async () => {
    const { controller, configDir } = await openController();
    const data = tempDir('rts-data-');
    await controller.chooseFolder({ path: data });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const lean = { withinDays: 1, daily: 7, weekly: 4, monthly: 6, yearly: 0 };
    const saved = await controller.setRetentionPolicy({ username: anna.username, policy: lean });
    expect(careOf(saved, anna.username)).toMatchObject({ policy: lean, preset: 'lean' });
    const custom = await controller.setRetentionPolicy({ username: anna.username, policy: { ...lean, daily: 3 } });
    expect(careOf(custom, anna.username)).toMatchObject({ policy: { ...lean, daily: 3 }, preset: 'custom' });
    const reopened = await openController({ configDir });
    expect(careOf(await reopened.controller.getState(), anna.username).policy).toEqual({ ...lean, daily: 3 });
    // Closed before the next change: two apps on one config folder would both write it.
    await reopened.controller.close();
    const standard = await controller.setRetentionPolicy({ username: anna.username, policy: { withinDays: 2, daily: 7, weekly: 5, monthly: 12, yearly: 3 } });
    expect(careOf(standard, anna.username).preset).toBe('standard');
    expect(readFileSync(join(configDir, SETTINGS_FILE), 'utf8')).not.toContain('"retention"');
  });

  it('runs the restic bundled with the app before the one on PATH, and the one set in Settings before both', { timeout: 60_000 }, async () => {
    const bundled = join(tempDir('rts-resources-'), 'restic');
    copyFileSync('/usr/bin/restic', bundled);
    const { controller } = await openController({ bundledRestic: bundled });
    expect((await controller.getState()).caretaker.restic?.path).toBe(bundled);
    const own = join(tempDir('rts-restic-bin-'), 'restic');
    copyFileSync('/usr/bin/restic', own);
    expect((await controller.setResticPath({ path: own })).caretaker.restic?.path).toBe(own);
    expect((await controller.setResticPath({ path: null })).caretaker.restic?.path).toBe(bundled);
    const { controller: fromSources } = await openController({ bundledRestic: join(tempDir('rts-resources-'), 'restic') });
    expect((await fromSources.getState()).caretaker.restic?.path).toMatch(/\/restic$/);
    expect((await fromSources.getState()).caretaker.restic?.path).not.toContain('rts-resources-');
  });

  it('npm run headless as a process: the password, a wrong one too, in none of its output and no file but its sealed store, through keeping, preview, retention and check', { timeout: 180_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const gui = await startHeadlessCli(configDir);
    const token = /#token=([\w-]+)/.exec(readFileSync(join(configDir, 'gui-address.txt'), 'utf8'))?.[1] as string;
    const data = tempDir('rts-data-');
    expect(await callGui(gui.origin, token, 'chooseFolder', { path: data })).toBe(200);
    expect(await callGui(gui.origin, token, 'addComputer', { displayName: "Anna's laptop" })).toBe(200);
    const repo = join(data, 'annas-laptop');
    await resticOk(repo, ['init']);
    await fourMonthsOfBackups(repo, 12);
    const wrong = 'a wrong encryption password';
    expect(await callGui(gui.origin, token, 'keepPassword', { username: 'annas-laptop', password: wrong })).toBe(422);
    expect(await callGui(gui.origin, token, 'keepPassword', { username: 'annas-laptop', password: RESTIC_PASSWORD })).toBe(200);
    expect(await callGui(gui.origin, token, 'previewRetention', { username: 'annas-laptop' })).toBe(200);
    expect(await callGui(gui.origin, token, 'runRetention', { username: 'annas-laptop' })).toBe(200);
    await expect.poll(() => readFileSync(join(data, CARE_RECORD_NAME), 'utf8').includes('"retention"'), { timeout: 60_000 }).toBe(true);
    expect(await callGui(gui.origin, token, 'checkBackups', { username: 'annas-laptop' })).toBe(200);
    await expect.poll(() => readFileSync(join(data, CARE_RECORD_NAME), 'utf8').includes('"check"'), { timeout: 60_000 }).toBe(true);
    await gui.stop();
    expect(gui.out()).toMatch(/Settings: /);
    for (const secret of [RESTIC_PASSWORD, wrong]) {
      expect(gui.out()).not.toContain(secret);
      expect(filesUnder(configDir).filter((file) => file.content.includes(secret)).map((file) => file.path)).toEqual([]);
      expect(filesUnder(data).filter((file) => file.content.includes(secret)).map((file) => file.path)).toEqual([]);
    }
  });
});
