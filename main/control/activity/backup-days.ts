import type { BackupDay } from '../../contract.js';
import { BACKUP_DAYS } from '../core/settings.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** The day of a moment in this desktop's calendar, `YYYY-MM-DD`: a backup at 00:30 belongs to the day the family lived. */
export function localDay(ms: number): string {
  const date = new Date(ms);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The recorded days with `day` added: each day once, the oldest first, the last `BACKUP_DAYS` kept. */
export function recordBackupDay(days: readonly string[], day: string): string[] {
  return [...new Set([...days, day])].sort().slice(-BACKUP_DAYS);
}

/** The `count` days up to today (the oldest first), each with whether a backup arrived; days before the computer was added are null. */
export function lastDays(days: readonly string[], createdAt: string, now: number, count = 30): BackupDay[] {
  const arrived = new Set(days);
  const added = localDay(Date.parse(createdAt));
  const today = new Date(now);
  return Array.from({ length: count }, (_, index) => {
    // Calendar days, not 24-hour steps: a change to or from summer time leaves no day out and none twice.
    const day = localDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - (count - 1 - index), 12).getTime());
    return { day, arrived: arrived.has(day) ? true : day < added ? null : false };
  });
}
