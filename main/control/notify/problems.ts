import type { AppState, Digest, QuietHours, Reason } from '../../contract.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A disk unplugged for a while is rotation or a trip; after this long it is a problem. */
export const DISK_AWAY_MS = HOUR_MS;
/** The digest goes out at the end of the quiet hours, or at this hour without them. */
const DIGEST_HOUR = 8;
/** A failing disk does not wait for the morning. */
const URGENT = new Set(['disk-read-errors']);
/** Problems that come from the server's phase, not from the reasons it shows while serving. */
const PHASE_KEYS = new Set(['disk-missing', 'server-stopped']);

/** Something the admin hears about once, and again when it is resolved. */
export interface Problem {
  key: string;
  severity: Reason['severity'];
  message: string;
  /** The computer it is about (its name), when it is about one. */
  computer: string | null;
}

export const isUrgent = (problem: Problem): boolean => URGENT.has(problem.key);

/** The computer a reason's key names (`stale:anna`, `damaged:anna`), by its name. */
function computerOf(key: string, state: AppState): string | null {
  const at = key.indexOf(':');
  if (at < 0) return null;
  const id = key.slice(at + 1);
  return state.computers.find((computer) => computer.username === id)?.displayName ?? state.integrity.awaitingRepair.find((repo) => repo.repo === id)?.displayName ?? null;
}

function fromReason(reason: Reason, state: AppState): Problem {
  const trend = (reason.key === 'disk-full' || reason.key === 'disk-almost-full') && state.storage?.trend ? ` ${state.storage.trend}` : '';
  return { key: reason.key, severity: reason.severity, message: `${reason.message}${trend}`, computer: computerOf(reason.key, state) };
}

/**
 * The problems now. The reasons are only known while the server serves: when
 * it does not (the disk away, stopped, starting), the problems it showed
 * before stay as they were, neither new nor resolved.
 */
export function problemsNow(state: AppState, before: Problem[], diskAwayMs: number): Problem[] {
  const serving = state.status === 'serving' || state.status === 'attention';
  const reasons = serving ? state.reasons.map((reason) => fromReason(reason, state)) : before.filter((problem) => !PHASE_KEYS.has(problem.key));
  const phase: Problem[] = [];
  if (state.status === 'disk-missing' && diskAwayMs >= DISK_AWAY_MS) {
    const hours = Math.floor(diskAwayMs / HOUR_MS);
    phase.push({ key: 'disk-missing', severity: 'critical', message: `${state.sentence} It has been away for ${hours} hour${hours === 1 ? '' : 's'}.`, computer: null });
  }
  if (state.status === 'error') phase.push({ key: 'server-stopped', severity: 'critical', message: state.sentence, computer: null });
  return [...phase, ...reasons];
}

/** The recovery message for a problem that went away. */
export function resolvedMessage(problem: Problem): string {
  return `Resolved: ${problem.message}`;
}

/** Whether this local time is in the quiet hours (they may run over midnight). */
export function isQuiet(now: number, hours: QuietHours | null): boolean {
  if (!hours) return false;
  const hour = new Date(now).getHours();
  return hours.from < hours.to ? hour >= hours.from && hour < hours.to : hour >= hours.from || hour < hours.to;
}

/** The local day (`YYYY-MM-DD`) of a time. */
export function localDay(now: number): string {
  const date = new Date(now);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/** Whether the digest is due now: past its hour, on a Monday for the weekly one, and not sent yet that day. */
export function digestDue(now: number, digest: Digest, hours: QuietHours | null, sentDay: string | null): boolean {
  if (digest === 'off') return false;
  const date = new Date(now);
  if (digest === 'weekly' && date.getDay() !== 1) return false;
  return date.getHours() >= (hours?.to ?? DIGEST_HOUR) && sentDay !== localDay(now);
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function age(ms: number): string {
  if (ms < HOUR_MS) return `${plural(Math.max(1, Math.floor(ms / 60_000)), 'minute')} old`;
  if (ms < DAY_MS) return `${plural(Math.floor(ms / HOUR_MS), 'hour')} old`;
  return `${plural(Math.floor(ms / DAY_MS), 'day')} old`;
}

/** The digest: the dashboard's figures in a few lines (the same figures: the same state). */
export function digestText(state: AppState, now: number, digest: Exclude<Digest, 'off'>): string {
  const period = digest === 'daily' ? { ms: DAY_MS, words: 'today' } : { ms: 7 * DAY_MS, words: 'this week' };
  const lines: string[] = [];
  const total = state.computers.length;
  const behind = state.computers.filter((computer) => computer.lastBackupAt === null || now - Date.parse(computer.lastBackupAt) > period.ms);
  if (total === 0) lines.push('No computers are set up yet.');
  else if (behind.length === 0) lines.push(`All ${plural(total, 'computer')} backed up ${period.words}.`);
  else lines.push(`${total - behind.length} of ${plural(total, 'computer')} backed up ${period.words}; not: ${behind.map((computer) => computer.displayName).join(', ')}.`);
  if (state.storage) {
    const { totalBytes, freeBytes, trend } = state.storage;
    const used = totalBytes > 0 ? Math.round((1 - freeBytes / totalBytes) * 100) : 0;
    lines.push(`The backup disk is ${used}% used.${trend ? ` ${trend}` : ''}`);
  } else {
    lines.push('The backup disk is not connected.');
  }
  if (state.offsite.target) lines.push(state.offsite.lastCopyAt ? `The offsite copy is ${age(now - Date.parse(state.offsite.lastCopyAt))}.` : 'The offsite copy has not been made yet.');
  const checked = state.integrity.disks.find((disk) => disk.diskId === state.storage?.diskId);
  if (checked?.lastCheckedAt) {
    lines.push(checked.damaged ? `The last integrity check found ${plural(checked.damaged, 'damaged file')}.` : 'The last integrity check was clean.');
  } else {
    lines.push('The backup disk has not been checked for damage yet.');
  }
  // Away, stopped or failing, the server shows no reasons: its sentence says what is wrong.
  const needs = [...(state.status === 'serving' || state.status === 'attention' ? [] : [state.sentence]), ...state.reasons.map((reason) => reason.message)];
  lines.push(needs.length === 0 ? 'Nothing needs you.' : `Needs you: ${needs.join(' ')}`);
  return lines.join('\n');
}
