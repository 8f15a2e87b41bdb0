import { describe, expect, it } from 'vitest';
import { describeTrend, recordUsage, type UsageSample } from '../../../../main/control/disks/usage-trend.js';

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
