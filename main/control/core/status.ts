import type { Colour, Reason, ServerStatus } from '../../contract.js';
import { formatBytes } from '../../common/format-bytes.js';

const DAY_MS = 86_400_000;
const GIB = 1024 ** 3;
/** Used share of the disk from which the tray turns yellow. */
export const DISK_WARN_FRACTION = 0.9;
/** Less free space than this (or 1%) counts as full: the next pack may not fit. */
const DISK_FULL_BYTES = GIB;
/** Less free than this share of the disk: the app proposes running the retention now. */
export const RETENTION_PROPOSED_FRACTION = 0.1;
/** A certificate ending sooner than this turns the tray yellow (the household one is renewed 30 days ahead). */
export const CERTIFICATE_WARN_DAYS = 14;
/** The start of a failing notification channel's reason key (its id follows): the channel is not told about itself. */
export const CHANNEL_FAILING = 'channel-failing:';

export type Phase = 'stopped' | 'starting' | 'serving' | 'disk-missing' | 'error';

/** Everything the status depends on, gathered by the controller. */
export interface StatusFacts {
  phase: Phase;
  /** What went wrong, with what to do (phase `error`). */
  error?: string;
  /** The disk being waited for (phase `disk-missing`). */
  diskLabel?: string;
  clientUrl: string | null;
  computers: { username: string; displayName: string; createdAt: Date; lastBackupAt: Date | null }[];
  staleDays: number;
  disk: { totalBytes: number; freeBytes: number } | null;
  /** The server answered 507 (insufficient storage) since the free space last grew. */
  refusedForSpace: boolean;
  certificateNotAfter: Date | null;
  /** Repositories with damaged files found by the integrity check and not yet repaired. */
  damaged: { repo: string; displayName: string | null; unreadable: boolean }[];
  /** What needs attention about disks taking turns (a disk away too long, a computer whose backups cannot reach the disk in use), from the disks room. */
  rotation: Reason[];
  /** The offsite copy, when there is a target: what went wrong last, when the last copy was complete, and from what age that is too old. */
  offsite: { problem: string | null; lastCopyAt: Date | null; warnAfterDays: number } | null;
  /** Notification channels whose messages keep failing. */
  failingChannels: { id: string; label: string; problem: string }[];
  /** The computers whose encryption password is kept (the desktop can run their retention), and the damage restic's own check found in each. */
  care: { username: string; displayName: string; checkProblem: string | null; runProblem: string | null }[];
  now: Date;
}

export interface StatusView {
  status: ServerStatus;
  colour: Colour;
  sentence: string;
  reasons: Reason[];
}

const days = (ms: number): number => Math.floor(ms / DAY_MS);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Whether a computer's last backup (or its creation, if it never backed up) is older than the threshold. */
export function isStale(computer: { createdAt: Date; lastBackupAt: Date | null }, staleDays: number, now: Date): boolean {
  const since = computer.lastBackupAt ?? computer.createdAt;
  return now.getTime() - since.getTime() > staleDays * DAY_MS;
}

/** What needs attention while serving, the critical first. */
export function reasonsFor(facts: StatusFacts): Reason[] {
  const reasons: Reason[] = [];
  if (facts.disk) {
    const { totalBytes, freeBytes } = facts.disk;
    const used = totalBytes > 0 ? 1 - freeBytes / totalBytes : 0;
    if (facts.refusedForSpace || freeBytes < Math.min(DISK_FULL_BYTES, totalBytes * 0.01) || used >= 0.99) {
      reasons.push({
        key: 'disk-full',
        severity: 'critical',
        message: `The backup disk is full (${formatBytes(freeBytes)} free): backups fail. Free space on it, or keep fewer snapshots (restic forget --prune).`,
      });
    } else if (used >= DISK_WARN_FRACTION) {
      reasons.push({
        key: 'disk-almost-full',
        severity: 'warning',
        message: `The backup disk is ${Math.floor(used * 100)}% full (${formatBytes(freeBytes)} free).`,
      });
    }
  }
  reasons.push(...facts.rotation);
  const first = facts.care[0];
  if (facts.disk && first && facts.disk.freeBytes < facts.disk.totalBytes * RETENTION_PROPOSED_FRACTION) {
    const names = facts.care.map((computer) => computer.displayName).join(', ');
    reasons.push({
      key: 'retention-proposed',
      severity: 'warning',
      message: `Less than 10% of the backup disk is free: removing old backups makes room. Preview and run the retention now on the page of ${facts.care.length === 1 ? first.displayName : `each computer (${names})`}.`,
    });
  }
  for (const computer of facts.care) {
    if (computer.checkProblem) {
      reasons.push({
        key: `check-damaged:${computer.username}`,
        severity: 'warning',
        message: `restic’s monthly check of ${computer.displayName}’s backups found damage: ${computer.checkProblem}. Run “Check now” in Storage: damaged files are moved aside and repaired.`,
      });
    }
    if (computer.runProblem) {
      reasons.push({
        key: `care-failing:${computer.username}`,
        severity: 'warning',
        message: `The desktop could not look after ${computer.displayName}’s backups: ${computer.runProblem}.`,
      });
    }
  }
  for (const computer of facts.computers) {
    if (!isStale(computer, facts.staleDays, facts.now)) continue;
    const message = computer.lastBackupAt
      ? `${computer.displayName} has not backed up for ${plural(days(facts.now.getTime() - computer.lastBackupAt.getTime()), 'day')}.`
      : `${computer.displayName} has never backed up (added ${plural(days(facts.now.getTime() - computer.createdAt.getTime()), 'day')} ago).`;
    reasons.push({ key: `stale:${computer.username}`, severity: 'warning', message });
  }
  if (facts.damaged.some((repo) => repo.unreadable)) {
    reasons.push({
      key: 'disk-read-errors',
      severity: 'warning',
      message: 'The backup disk returned read errors during the integrity check: it may be failing. Copy the backups to another disk soon (Storage).',
    });
  }
  for (const repo of facts.damaged) {
    reasons.push({
      key: `damaged:${repo.repo}`,
      severity: 'warning',
      message: repo.displayName
        ? `Damaged files were found in ${repo.displayName}’s backups and moved aside: run the repair commands on ${repo.displayName} (they are on its page).`
        : `Damaged files were found in the repository /${repo.repo}/ and moved aside: repair it with restic from the computer that uses it (see Storage).`,
    });
  }
  if (facts.offsite?.problem) {
    reasons.push({ key: 'offsite-failing', severity: 'warning', message: `The offsite copy did not work: ${facts.offsite.problem}` });
  } else if (facts.offsite?.lastCopyAt && facts.now.getTime() - facts.offsite.lastCopyAt.getTime() > facts.offsite.warnAfterDays * DAY_MS) {
    reasons.push({
      key: 'offsite-stale',
      severity: 'warning',
      message: `The offsite copy is ${plural(days(facts.now.getTime() - facts.offsite.lastCopyAt.getTime()), 'day')} old: backups since then exist only on the backup disk.`,
    });
  }
  for (const channel of facts.failingChannels) {
    reasons.push({
      key: `${CHANNEL_FAILING}${channel.id}`,
      severity: 'warning',
      message: `Notifications (${channel.label}) keep failing: ${channel.problem} Check them in Settings → Notifications.`,
    });
  }
  if (facts.certificateNotAfter) {
    const left = facts.certificateNotAfter.getTime() - facts.now.getTime();
    if (left <= 0) {
      reasons.push({ key: 'certificate-expired', severity: 'critical', message: 'The server certificate has expired: computers cannot connect. Renew it in Security.' });
    } else if (left < CERTIFICATE_WARN_DAYS * DAY_MS) {
      reasons.push({
        key: 'certificate-expiring',
        severity: 'warning',
        message: `The server certificate expires in ${plural(Math.max(1, days(left)), 'day')}. Renew it in Security.`,
      });
    }
  }
  return reasons.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
}

/**
 * The green sentence. A computer that never backed up is not up to date:
 * right after set-up none is connected yet, and saying "up to date" then
 * would tell the family their backups run when none has happened.
 */
function servingSentence(facts: StatusFacts): string {
  const at = `Serving backups at ${facts.clientUrl ?? 'this computer'}`;
  const total = facts.computers.length;
  if (total === 0) return `${at}. Add a computer to start backing up.`;
  const waiting = facts.computers.filter((computer) => computer.lastBackupAt === null).length;
  if (waiting === 0) return `${at}; every computer is up to date.`;
  if (waiting === total) return `${at}; ${plural(waiting, 'computer')} not connected yet.`;
  return `${at}; ${plural(total - waiting, 'computer')} up to date, ${waiting} not connected yet.`;
}

/** The status, its colour and its sentence: one pure function, shared by the dashboard, the tray and the notifications. */
export function describeStatus(facts: StatusFacts): StatusView {
  switch (facts.phase) {
    case 'stopped':
      return { status: 'stopped', colour: 'grey', sentence: 'The backup server is stopped.', reasons: [] };
    case 'starting':
      return { status: 'starting', colour: 'grey', sentence: 'The backup server is starting.', reasons: [] };
    case 'error':
      return { status: 'error', colour: 'red', sentence: `The backup server cannot run: ${facts.error ?? 'unknown error'}`, reasons: [] };
    case 'disk-missing':
      return {
        status: 'disk-missing',
        colour: 'red',
        sentence: `The backup disk “${facts.diskLabel ?? 'backup disk'}” is not connected. Plug it in: backups resume by themselves.`,
        reasons: [],
      };
    case 'serving': {
      const reasons = reasonsFor(facts);
      const [first] = reasons;
      if (!first) return { status: 'serving', colour: 'green', sentence: servingSentence(facts), reasons };
      const more = reasons.length > 1 ? ` (and ${reasons.length - 1} more)` : '';
      return {
        status: 'attention',
        colour: first.severity === 'critical' ? 'red' : 'yellow',
        sentence: `${first.message}${more}`,
        reasons,
      };
    }
  }
}
