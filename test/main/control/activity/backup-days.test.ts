import { describe, expect, it } from 'vitest';
import { lastDays, localDay, recordBackupDay } from '../../../../main/control/activity/backup-days.js';

const noon = (year: number, month: number, day: number): number => new Date(year, month - 1, day, 12).getTime();

describe('a computer’s backup days', () => {
  it('records each day once, oldest first, and keeps the last 30', () => {
    let days: string[] = [];
    for (let day = 1; day <= 31; day++) days = recordBackupDay(recordBackupDay(days, localDay(noon(2027, 1, day))), localDay(noon(2027, 1, day)));
    expect(days).toHaveLength(30);
    expect(days[0]).toBe('2027-01-02');
    expect(days.at(-1)).toBe('2027-01-31');
    expect(recordBackupDay(['2027-01-05'], '2027-01-03')).toEqual(['2027-01-03', '2027-01-05']);
  });

  it('the last 30 calendar days end today; days before the computer was added are neither backed up nor missed', () => {
    const strip = lastDays(['2027-03-01', '2027-03-09', '2027-03-10'], new Date(2027, 2, 1, 9).toISOString(), noon(2027, 3, 10));
    expect(strip).toHaveLength(30);
    expect(strip.at(-1)).toEqual({ day: '2027-03-10', arrived: true });
    expect(strip[0]?.day).toBe('2027-02-09');
    expect(strip.filter((day) => day.arrived === null)).toHaveLength(20);
    expect(strip.filter((day) => day.arrived === true).map((day) => day.day)).toEqual(['2027-03-01', '2027-03-09', '2027-03-10']);
    expect(strip.filter((day) => day.arrived === false)).toHaveLength(7);
    // Every day once, in order, whatever the clocks do in between.
    expect(new Set(strip.map((day) => day.day)).size).toBe(30);
    expect([...strip.map((day) => day.day)].sort()).toEqual(strip.map((day) => day.day));
  });
});
