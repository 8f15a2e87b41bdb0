import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../../main/control/core/dispatch.js';
import { openController } from '../../../helpers/controller.js';
import { RESTIC_PASSWORD, resticOk, snapshotCount } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

const DAY_MS = 86_400_000;
/** restic's --time: local time, `YYYY-MM-DD hh:mm:ss`. */
const resticTime = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');

describe.runIf(hasTool('restic'))('the retention policy’s preview, asked of real restic', () => {
  it('matches restic’s own forget --dry-run for the default policy and another, removes nothing, and needs the kept password', { timeout: 180_000 }, async () => {
    const { controller } = await openController();
    const data = tempDir('rts-data-');
    await controller.chooseFolder({ path: data });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const repo = join(data, anna.username);
    await resticOk(repo, ['init']);
    const source = tempDir('rts-source-');
    // Four months of backups: every fifth day, and three within the last day.
    const now = Date.now();
    const times = [...Array.from({ length: 24 }, (_, index) => now - (index + 1) * 5 * DAY_MS), now - 20 * 3_600_000, now - 8 * 3_600_000, now - 3_600_000];
    for (const [index, time] of times.entries()) {
      writeFileSync(join(source, 'notes.txt'), `version ${index}`);
      await resticOk(repo, ['backup', '--host', 'annas-laptop', '--time', resticTime(new Date(time)), source]);
    }

    await expect(controller.previewRetention({ username: anna.username })).rejects.toMatchObject({
      code: 'not-kept',
      message: "Keep the encryption password of Anna's laptop first: restic needs it to read which backups there are.",
    });
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });

    const ownDecision = async (flags: string[]) => {
      const groups = JSON.parse(await resticOk(repo, ['forget', '--dry-run', '--no-lock', '--json', ...flags])) as { keep: { id: string }[] | null; remove: { id: string }[] | null }[];
      return { keep: groups.flatMap((group) => (group.keep ?? []).map((s) => s.id)).sort(), forget: groups.flatMap((group) => (group.remove ?? []).map((s) => s.id)).sort() };
    };
    const ids = (lines: { id: string }[]) => lines.map((line) => line.id).sort();

    const preview = await controller.previewRetention({ username: anna.username });
    expect(preview.policy).toEqual({ withinDays: 2, daily: 7, weekly: 5, monthly: 12, yearly: 3 });
    expect({ keep: ids(preview.keep), forget: ids(preview.forget) }).toEqual(await ownDecision(['--keep-within', '2d', '--keep-daily', '7', '--keep-weekly', '5', '--keep-monthly', '12', '--keep-yearly', '3']));
    expect(preview.keep.length + preview.forget.length).toBe(27);
    expect(preview.forget.length).toBeGreaterThan(0);
    // The three of the last day are kept for being recent, and the list is newest first.
    expect(preview.keep.slice(0, 3).every((line) => line.reasons.includes('within 2d'))).toBe(true);
    expect(preview.keep.map((line) => line.time)).toEqual(preview.keep.map((line) => line.time).sort().reverse());

    const lean = await controller.previewRetention({ username: anna.username, policy: { withinDays: 0, daily: 1, weekly: 0, monthly: 2, yearly: 0 } });
    expect({ keep: ids(lean.keep), forget: ids(lean.forget) }).toEqual(await ownDecision(['--keep-daily', '1', '--keep-monthly', '2']));
    expect(lean.keep.length).toBeLessThan(preview.keep.length);

    // A preview removes nothing; a policy that keeps nothing is refused before restic runs.
    expect(await snapshotCount(repo)).toBe(27);
    const zero = await dispatch(controller, 'previewRetention', { username: anna.username, policy: { withinDays: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 } }, () => undefined);
    expect(zero).toEqual({ ok: false, error: { code: 'invalid-input', message: 'policy: a policy that keeps at least something (all zero would keep nothing)' } });
  });
});
