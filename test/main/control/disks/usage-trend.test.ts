import { describe, expect, it } from 'vitest';
import { describeTrend, recordFreed, recordUsage, type UsageSample } from '../../../../main/control/disks/usage-trend.js';

const GB = 1e9;
const NOW = new Date('2026-11-23T12:00:00Z');
const daysAgo = (days: number, usedGb: number): UsageSample => ({
  day: new Date(NOW.getTime() - days * 86_400_000).toISOString().slice(0, 10),
  usedBytes: usedGb * GB,
});

describe('disk growth trend', () => {
  it.each([
    ['no measurement', [], 100, null],
    ['one day only', [daysAgo(0, 10)], 100, null],
    ['2 GB a day, 100 GB free', [daysAgo(7, 10), daysAgo(0, 24)], 100, 'Grows about 14 GB a week: full in about 7 weeks at this pace.'],
    ['10 GB a week, 2 TB free', [daysAgo(14, 100), daysAgo(7, 110), daysAgo(0, 120)], 2000, 'Grows about 10 GB a week: full in about 4 years at this pace.'],
    ['fast: 50 GB a day, 200 GB free', [daysAgo(2, 100), daysAgo(0, 200)], 200, 'Grows about 350 GB a week: full in about 4 days at this pace.'],
    ['shrinking after a prune', [daysAgo(5, 100), daysAgo(0, 90)], 500, 'No growth over the last 5 days.'],
    ['only the last 30 days count', [daysAgo(90, 0), daysAgo(20, 100), daysAgo(0, 120)], 1000, 'Grows about 7.0 GB a week: full in about 3 years at this pace.'],
    ['slow: 1 GB a week, 4 TB free', [daysAgo(14, 100), daysAgo(0, 102)], 4000, 'Grows about 1.0 GB a week: full in more than 5 years at this pace.'],
  ] as [string, UsageSample[], number, string | null][])('%s', (_, samples, freeGb, expected) => {
    expect(describeTrend(samples, freeGb * GB, NOW)).toBe(expected);
  });

  it('keeps one measurement a day, the newest of it, for a bounded number of days', () => {
    let samples: UsageSample[] = [];
    samples = recordUsage(samples, 1, new Date('2026-11-20T08:00:00Z'), 2);
    samples = recordUsage(samples, 2, new Date('2026-11-20T20:00:00Z'), 2);
    expect(samples).toEqual([{ day: '2026-11-20', usedBytes: 2 }]);
    samples = recordUsage(samples, 3, new Date('2026-11-21T08:00:00Z'), 2);
    samples = recordUsage(samples, 4, new Date('2026-11-22T08:00:00Z'), 2);
    expect(samples).toEqual([
      { day: '2026-11-21', usedBytes: 3 },
      { day: '2026-11-22', usedBytes: 4 },
    ]);
  });
});

describe('the forecast with what retention frees', () => {
  const freed = (days: number, usedGb: number, freedGb: number): UsageSample => ({ ...daysAgo(days, usedGb), freedBytes: freedGb * GB });
  it.each([
    ['retention frees less than backups add', [daysAgo(14, 100), freed(7, 105, 10), daysAgo(0, 114)], 500, 'Backups add about 12 GB a week and removing old ones frees about 5.0 GB: full in about 17 months at this pace.'],
    ['retention frees as much as backups add', [daysAgo(7, 100), freed(0, 100, 14)], 500, 'Backups add about 14 GB a week and removing old ones frees about 14 GB: the disk is not filling up.'],
    ['what was freed on the first day is before the window', [freed(7, 100, 50), daysAgo(0, 114)], 500, 'Grows about 14 GB a week: full in about 8 months at this pace.'],
  ] as [string, UsageSample[], number, string][])('%s', (_, samples, freeGb, expected) => {
    expect(describeTrend(samples, freeGb * GB, NOW)).toBe(expected);
  });

  it('adds what retention freed to the day’s measurement, and a later measurement of the day keeps it', () => {
    let samples: UsageSample[] = [{ day: '2026-11-19', usedBytes: 10 }];
    samples = recordFreed(samples, 5, 20, new Date('2026-11-20T08:00:00Z'), 10);
    expect(samples.at(-1)).toEqual({ day: '2026-11-20', usedBytes: 20, freedBytes: 5 });
    samples = recordFreed(samples, 2, 99, new Date('2026-11-20T09:00:00Z'), 10);
    samples = recordUsage(samples, 15, new Date('2026-11-20T10:00:00Z'), 10);
    expect(samples).toEqual([
      { day: '2026-11-19', usedBytes: 10 },
      { day: '2026-11-20', usedBytes: 15, freedBytes: 7 },
    ]);
  });
});
