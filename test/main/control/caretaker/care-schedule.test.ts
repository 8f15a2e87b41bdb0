import { describe, expect, it } from 'vitest';
import { checkSubset, dueJob, type CareFacts } from '../../../../main/control/caretaker/care-schedule.js';
import { repairSteps } from '../../../../main/control/caretaker/upkeep.js';
import { readPruneEstimate, removedCount } from '../../../../main/control/caretaker/retention.js';
import { emptyCare, type RepoCare } from '../../../../server/care-record.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
const at = (ms: number) => new Date(NOW - ms).toISOString();

const facts: CareFacts = { now: NOW, kept: true, lastRequestAt: NOW - 20 * MIN, lastBackupAt: NOW - 30 * MIN, copying: false, record: emptyCare() };
const retention = (ago: number, ok = true): RepoCare['retention'] => ({ at: at(ago), ok, removed: 1, freedBytes: 1, problem: ok ? null : 'locked' });
const check = (ago: number, outcome: 'ok' | 'damaged' | 'failed' = 'ok'): RepoCare['check'] => ({ at: at(ago), outcome, subset: '11/12', problem: null });

describe('when the desktop runs restic for a computer', () => {
  it.each([
    ['never ran, quiet 20 minutes after today’s backup', {}, 'retention'],
    ['no kept password', { kept: false }, null],
    ['an offsite copy runs', { copying: true }, null],
    ['never backed up', { lastBackupAt: null }, null],
    ['the computer sent something 14 minutes ago (a backup under way)', { lastRequestAt: NOW - 14 * MIN }, null],
    ['quiet exactly 15 minutes', { lastRequestAt: NOW - 15 * MIN }, 'retention'],
    ['never sent anything to this server (backups copied in)', { lastRequestAt: null }, 'retention'],
    ['today’s backup has not arrived yet: the month’s check instead', { lastBackupAt: NOW - 25 * 3_600_000 }, 'check'],
    ['retention 6 days ago, checked this month', { record: { ...emptyCare(), retention: retention(6 * DAY), check: check(DAY) } }, null],
    ['retention 7 days ago', { record: { ...emptyCare(), retention: retention(7 * DAY), check: check(DAY) } }, 'retention'],
    ['a failed retention 59 minutes ago', { record: { ...emptyCare(), retention: retention(59 * MIN, false), check: check(DAY) } }, null],
    ['a failed retention an hour ago is tried again', { record: { ...emptyCare(), retention: retention(60 * MIN, false), check: check(DAY) } }, 'retention'],
    ['checked last month', { record: { ...emptyCare(), retention: retention(DAY), check: check(30 * DAY) } }, 'check'],
    ['a check that found damage stays until next month', { record: { ...emptyCare(), retention: retention(DAY), check: check(2 * DAY, 'damaged') } }, null],
    ['a check that could not run is tried again an hour later', { record: { ...emptyCare(), retention: retention(DAY), check: check(61 * MIN, 'failed') } }, 'check'],
  ] as [string, Partial<CareFacts>, string | null][])('%s', (_, change, expected) => {
    expect(dueJob({ ...facts, ...change })).toBe(expected);
  });

  it('reads a different twelfth of the data each month, all of it within a year', () => {
    const months = Array.from({ length: 12 }, (_, month) => checkSubset(Date.UTC(2026, month, 15)));
    expect(new Set(months).size).toBe(12);
    expect(months[0]).toBe('1/12');
    expect(months[11]).toBe('12/12');
  });

  it('repairs with the commands of the restic on the desktop', () => {
    expect(repairSteps('0.14.0')).toEqual([['rebuild-index']]);
    expect(repairSteps('0.15.2')).toEqual([['rebuild-index']]);
    expect(repairSteps('0.16.0')).toEqual([['repair', 'index'], ['repair', 'snapshots', '--forget']]);
    expect(repairSteps('0.17.3')).toEqual([['repair', 'index'], ['repair', 'snapshots', '--forget']]);
  });

  it('reads restic’s figures: prune’s estimate and the snapshots forget removed', () => {
    expect(readPruneEstimate('to delete:  4 blobs / 1.040 KiB\ntotal prune:          64 blobs / 43.013 KiB\nremaining: 8 blobs / 1.146 MiB')).toBe(Math.round(43.013 * 1024));
    expect(readPruneEstimate('total prune:           6 blobs / 1.5 GiB')).toBe(Math.round(1.5 * 1024 ** 3));
    expect(readPruneEstimate('nothing to prune')).toBe(0);
    const groups = [{ keep: [{}], remove: [{}, {}] }, { keep: [{}], remove: null }];
    expect(removedCount(groups)).toBe(2);
    expect(removedCount([groups])).toBe(2);
    expect(removedCount(null)).toBe(0);
  });
});
