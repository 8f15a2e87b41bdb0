import type { RepoCare } from '../../../server/care-record.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Retention runs once a week per computer. */
export const RETENTION_EVERY_MS = 7 * DAY_MS;
/** The computer has sent nothing for this long: its backup is over, restic on the desktop may take the repository. */
export const QUIET_MS = 15 * MINUTE_MS;
/** Its daily backup counts as arrived when its newest snapshot is this recent. */
export const BACKUP_FRESH_MS = DAY_MS;
/** A run that could not work (restic's lock held by a backup, the disk away) is tried again after this long. */
export const RETRY_MS = 60 * MINUTE_MS;

export type CareJob = 'retention' | 'check';

/** What the schedule looks at for one computer. */
export interface CareFacts {
  now: number;
  /** The family keeps its encryption password here: without it restic cannot read its backups. */
  kept: boolean;
  /** Its last request to the server (any), and its newest snapshot. */
  lastRequestAt: number | null;
  lastBackupAt: number | null;
  /** An offsite copy runs: it reads the repositories, and a prune would delete files under it. */
  copying: boolean;
  /** What the disk's record says of it. */
  record: RepoCare;
}

/** The twelfth of the data `restic check --read-data-subset` reads this month: a different one each month, all of it within a year. */
export function checkSubset(now: number): string {
  return `${new Date(now).getUTCMonth() + 1}/12`;
}

const monthOf = (time: number | string) => new Date(time).toISOString().slice(0, 7);

/** When the weekly retention is due (it then waits for quiet and the day's backup); now when it never ran. */
export function retentionDueAt(record: RepoCare, now: number): number {
  const last = record.retention;
  if (!last) return now;
  return Date.parse(last.at) + (last.ok ? RETENTION_EVERY_MS : RETRY_MS);
}

/**
 * The run due for a computer now, if any: only with its password kept,
 * never while an offsite copy runs, and only once it has sent nothing for
 * 15 minutes, after a first backup. Retention (weekly, or an hour after a
 * failed run) also waits for its daily backup; the check runs once each calendar month (an hour
 * after one that could not run).
 */
export function dueJob(facts: CareFacts): CareJob | null {
  const { now, record } = facts;
  if (!facts.kept || facts.copying || facts.lastBackupAt === null) return null;
  if (facts.lastRequestAt !== null && now - facts.lastRequestAt < QUIET_MS) return null;
  if (now - facts.lastBackupAt < BACKUP_FRESH_MS && now >= retentionDueAt(record, now)) return 'retention';
  const check = record.check;
  if (!check || (check.outcome === 'failed' ? now - Date.parse(check.at) >= RETRY_MS : monthOf(check.at) !== monthOf(now))) return 'check';
  return null;
}
