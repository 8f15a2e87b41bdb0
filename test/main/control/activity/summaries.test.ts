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

  type Run = [string, LogEntry[], string[]];
  const lock = () => entry('POST', 'locks', 200, 200);
  const unlock = () => entry('DELETE', 'locks');
  const runs: Run[] = [
    [
      'rebuild-index (restic 0.14): index files written, old ones deleted, no pack or snapshot touched',
      [lock(), entry('GET', 'index', 200, 3000), entry('GET', 'index', 200, 3000), entry('GET', 'data', 200, 40_000), entry('POST', 'index', 200, 2500), entry('DELETE', 'index'), entry('DELETE', 'index'), unlock()],
      ["info: Anna's laptop: rebuilt the index: 1 index file written, 2 old ones deleted; no backup was removed."],
    ],
    [
      'repair index with several new index files, one old one',
      [lock(), entry('POST', 'index', 200, 2500), entry('POST', 'index', 200, 2500), entry('DELETE', 'index'), unlock()],
      ["info: Anna's laptop: rebuilt the index: 2 index files written, 1 old one deleted; no backup was removed."],
    ],
    [
      'forget alone: snapshots deleted',
      [lock(), entry('GET', 'snapshots', 200, 300), entry('DELETE', 'snapshots'), entry('DELETE', 'snapshots'), unlock()],
      ["info: Anna's laptop: forgetting old backups (restic forget).", "info: Anna's laptop: forgot 2 old backups."],
    ],
    [
      'forget --prune: snapshots, then a new index, then packs',
      [lock(), entry('DELETE', 'snapshots'), entry('POST', 'index', 200, 900), entry('DELETE', 'index'), entry('DELETE', 'data'), entry('DELETE', 'data'), unlock()],
      [
        "info: Anna's laptop: forgetting old backups (restic forget).",
        "info: Anna's laptop: pruning: deleting data that no backup needs any more.",
        "info: Anna's laptop: forgot 1 old backup and pruned 2 files that no backup needed.",
      ],
    ],
    [
      'prune alone, repacking: packs written after the first deletion are not a backup',
      [lock(), entry('GET', 'data', 200, 90_000), entry('POST', 'index', 200, 900), entry('DELETE', 'index'), entry('DELETE', 'data'), entry('POST', 'data', 200, 50_000), unlock()],
      ["info: Anna's laptop: pruning: deleting data that no backup needs any more.", "info: Anna's laptop: pruned 1 file that no backup needed."],
    ],
    [
      'a backup with nothing new: only a snapshot is written',
      [lock(), entry('GET', 'snapshots', 200, 300), entry('POST', 'snapshots', 200, 300), unlock()],
      ["info: Anna's laptop: backup started.", "info: Anna's laptop: backup finished, 300 bytes uploaded."],
    ],
    [
      'a backup stopped before its snapshot (its lock removed)',
      [lock(), entry('POST', 'data', 200, 4_000_000), entry('POST', 'index', 200, 900), unlock()],
      ["info: Anna's laptop: backup started.", "info: Anna's laptop: finished, 4.0 MB uploaded."],
    ],
    [
      'restic init: the repository is created, no backup',
      [entry('POST', null), entry('POST', 'config', 200, 155), entry('POST', 'keys', 200, 450)],
      ["info: Anna's laptop: its backup repository was created (restic init)."],
    ],
    [
      'a key removed: said as what it is',
      [lock(), entry('DELETE', 'keys'), unlock()],
      ["info: Anna's laptop: deleted 1 file (keys)."],
    ],
    ['restic check without --read-data: a little reading, nothing said', [lock(), entry('GET', 'index', 200, 3000), entry('GET', 'snapshots', 200, 300), unlock()], []],
  ];
  it.each(runs)('%s', (_, entries, said) => {
    expect(fold(entries)).toEqual(said);
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
