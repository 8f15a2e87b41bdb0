import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../../main/contract.js';
import { MAX_REMEMBERED, SESSION_IDLE_MS, SummaryFolder } from '../../../../main/control/activity/summaries.js';

let clock = Date.parse('2026-11-23T10:00:00Z');
const entry = (method: string, type: string | null, status = 200, bytes = 0, user: string | null = 'anna'): LogEntry => ({
  time: new Date((clock += 100)).toISOString(),
  remoteAddress: '192.168.1.7',
  user,
  computer: null,
  method,
  path: `/anna/${type ?? ''}`,
  repo: 'anna',
  type,
  status,
  bytes,
  durationMs: 3,
  completed: true,
});

function fold(entries: LogEntry[], folder = new SummaryFolder()): string[] {
  return entries.flatMap((e) => folder.fold(e, "Anna's laptop")).map((summary) => `${summary.severity}: ${summary.message}`);
}

describe('summaries folded from requests', () => {
  it('a backup: started at the first upload, finished with the bytes when its lock goes', () => {
    expect(
      fold([
        entry('GET', 'config', 200, 155),
        entry('POST', 'locks', 200, 200),
        entry('GET', 'index', 200, 1000),
        entry('POST', 'data', 200, 700_000_000),
        entry('POST', 'data', 200, 500_000_000),
        entry('POST', 'index', 200, 4000),
        entry('POST', 'snapshots', 200, 300),
        entry('DELETE', 'locks'),
      ]),
    ).toEqual(["info: Anna's laptop: backup started.", "info: Anna's laptop: backup finished, 1.2 GB uploaded."]);
  });

  it('forget/prune: says it removes, then how much', () => {
    expect(fold([entry('POST', 'locks'), entry('DELETE', 'snapshots'), entry('DELETE', 'data'), entry('DELETE', 'data'), entry('DELETE', 'locks')])).toEqual([
      "info: Anna's laptop: removing old backups (forget/prune).",
      "info: Anna's laptop: removed 3 old files.",
    ]);
  });

  it('a restore reads; a look at the snapshots says nothing', () => {
    expect(fold([entry('POST', 'locks'), entry('GET', 'data', 200, 5_000_000), entry('DELETE', 'locks')])).toEqual([
      "info: Anna's laptop: read 5.0 MB (check or restore).",
    ]);
    expect(fold([entry('POST', 'locks'), entry('GET', 'snapshots', 200, 300), entry('DELETE', 'locks')])).toEqual([]);
  });

  it('refusals are said once per run: append-only, disk full, disk missing', () => {
    expect(
      fold([
        entry('POST', 'locks'),
        entry('DELETE', 'snapshots', 403),
        entry('DELETE', 'snapshots', 403),
        entry('POST', 'data', 507),
        entry('POST', 'data', 507),
        entry('POST', 'data', 503),
      ]),
    ).toEqual([
      "warning: Anna's laptop: deleting was refused (append-only).",
      "error: Anna's laptop: the backup disk is full; uploads are refused.",
      "error: Anna's laptop: the backup disk is not connected; requests are refused.",
    ]);
  });

  it('refused logins are reported at most once a minute per address', () => {
    const folder = new SummaryFolder();
    const first = fold([entry('GET', 'config', 401, 0, 'mallory'), entry('GET', 'config', 401, 0, 'mallory')], folder);
    expect(first).toEqual(['warning: A login was refused for mallory from 192.168.1.7 (wrong password?).']);
    clock += 61_000;
    expect(fold([entry('GET', 'config', 401, 0, null)], folder)).toEqual(['warning: A login was refused for an unknown user from 192.168.1.7 (wrong password?).']);
  });

  it('a backup that falls silent is reported as unfinished', () => {
    const folder = new SummaryFolder();
    fold([entry('POST', 'locks'), entry('POST', 'data', 200, 2_000_000)], folder);
    expect(folder.expire(new Date(clock + SESSION_IDLE_MS - 1000))).toEqual([]);
    expect(folder.expire(new Date(clock + SESSION_IDLE_MS)).map((s) => s.message)).toEqual([
      "Anna's laptop: backup stopped without finishing (2.0 MB uploaded); restic continues it next time.",
    ]);
    expect(folder.expire(new Date(clock + 2 * SESSION_IDLE_MS))).toEqual([]);
  });

  it('remembers a bounded number of addresses and runs, and forgets refusals with age', () => {
    const folder = new SummaryFolder();
    for (let i = 0; i < 5000; i++) {
      folder.fold({ ...entry('POST', null, 401, 0, null), remoteAddress: `10.0.${i >> 8}.${i & 255}` }, 'x');
      folder.fold({ ...entry('GET', 'config', 404, 0, null), repo: `probe-${i}` }, 'x');
    }
    expect(folder.remembered).toBeLessThanOrEqual(2 * MAX_REMEMBERED);
    folder.expire(new Date(clock + SESSION_IDLE_MS));
    expect(folder.remembered).toBe(0);
  });
});
