import { describe, expect, it } from 'vitest';
import { neededMinor, newestBackup, oldHome } from '../../../../main/control/connect/new-laptop.js';

const id = (digit: string) => digit.repeat(64);

describe('what a new computer restores', () => {
  it('the newest of restic’s snapshots, whatever their order; none when there are none or they are not snapshots', () => {
    const json = [
      { id: id('a'), time: '2026-12-01T10:00:00Z', hostname: 'anna-laptop', paths: ['/home/anna'], excludes: ['/home/anna/.cache'] },
      { id: id('b'), time: '2026-12-06T09:30:00.123456789+01:00', hostname: 'anna-laptop', paths: ['/home/anna'] },
      { id: id('c'), time: '2026-11-01T10:00:00Z', hostname: 'other', paths: ['/home/anna'] },
    ];
    expect(newestBackup(json)).toEqual({ id: id('b'), shortId: 'bbbbbbbb', time: '2026-12-06T09:30:00.123456789+01:00', host: 'anna-laptop', paths: ['/home/anna'], excludes: [], sizeBytes: null });
    expect(newestBackup([])).toBeNull();
    expect(newestBackup(null)).toBeNull();
    expect(newestBackup([{ id: 'not-an-id', time: '2026-12-01T10:00:00Z' }, 'text'])).toBeNull();
  });

  it.each([
    ['the home the installed command names by leaving out its cache', { paths: ['/home/anna'], excludes: ['/home/anna/.cache', '/home/anna/.config/restic-tray-server'] }, 'home/anna'],
    ['the cache named even when the folders backed up were set by hand', { paths: ['/home/anna/Documents', '/srv/photos'], excludes: ['/home/anna/.cache', '/home/anna/.config/restic-tray-server'] }, 'home/anna'],
    ['a Windows home, as restic lays it out when restoring (the drive without its colon)', { paths: ['C:\\Users\\Anna\\Documents', 'C:\\Users\\Anna\\Pictures'], excludes: ['C:\\Users\\Anna\\AppData', 'C:\\Users\\Anna\\AppData\\Local\\restic-tray-server'] }, 'C/Users/Anna'],
    ['a backup made by hand of one folder: that folder', { paths: ['/Users/anna/'], excludes: [] }, 'Users/anna'],
    ['a backup made by hand of several folders: the folder they share', { paths: ['/home/anna/Documents', '/home/anna/Pictures/2025'], excludes: [] }, 'home/anna'],
    ['a backup made by hand of a home and a folder in it: the home', { paths: ['/home/anna', '/home/anna/Music'], excludes: [] }, 'home/anna'],
    ['folders that share nothing: the whole backup', { paths: ['/etc', '/home/anna'], excludes: [] }, ''],
  ])('the old home folder: %s', (_why, backup, from) => {
    expect(oldHome(backup).join('/')).toBe(from);
  });

  it('restic 0.14 or newer for a compressed repository (format 2); any restic for format 1 or an unreadable answer', () => {
    expect(neededMinor({ version: 2, id: 'x' })).toBe(14);
    expect(neededMinor({ version: 1 })).toBe(0);
    expect(neededMinor(null)).toBe(0);
  });
});
