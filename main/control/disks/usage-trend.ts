import { formatBytes } from '../../common/format-bytes.js';

export interface UsageSample {
  /** `YYYY-MM-DD` */
  day: string;
  usedBytes: number;
  /** What retention freed on that day (the desktop's forget --prune). */
  freedBytes?: number;
}

const DAY_MS = 86_400_000;
/** The trend looks back this far: recent habits, not the first big backup. */
const WINDOW_DAYS = 30;
/** Beyond this, "full in about 7 years" claims more than a trend can tell. */
const FORESEEABLE_DAYS = 5 * 365;

const dayOf = (date: Date): string => date.toISOString().slice(0, 10);

/** Today's measurement replaces an earlier one of the same day (what retention freed today stays); the list keeps the last `keep` days. */
export function recordUsage(samples: UsageSample[], usedBytes: number, now: Date, keep: number): UsageSample[] {
  const day = dayOf(now);
  const freedBytes = samples.find((sample) => sample.day === day)?.freedBytes;
  const earlier = samples.filter((sample) => sample.day !== day);
  return [...earlier, { day, usedBytes, ...(freedBytes ? { freedBytes } : {}) }].slice(-keep);
}

/** Space retention freed today, added to today's measurement (made now when there is none yet: the disk's use then is `usedBytes`). */
export function recordFreed(samples: UsageSample[], freedBytes: number, usedBytes: number, now: Date, keep: number): UsageSample[] {
  const day = dayOf(now);
  const today = samples.find((sample) => sample.day === day);
  const earlier = samples.filter((sample) => sample.day !== day);
  return [...earlier, { day, usedBytes: today?.usedBytes ?? usedBytes, freedBytes: (today?.freedBytes ?? 0) + freedBytes }].slice(-keep);
}

function inWords(days: number): string {
  if (days < 14) return `${Math.max(1, Math.round(days))} day${Math.round(days) === 1 ? '' : 's'}`;
  if (days < 60) return `${Math.round(days / 7)} weeks`;
  if (days < 730) return `${Math.round(days / 30)} months`;
  return `${Math.round(days / 365)} years`;
}

/** "Grows about 2.1 GB a week: full in about 8 months at this pace." from the daily measurements; null with less than two days. */
export function describeTrend(samples: UsageSample[], freeBytes: number, now: Date): string | null {
  const since = now.getTime() - WINDOW_DAYS * DAY_MS;
  const recent = samples.filter((sample) => Date.parse(sample.day) >= since - DAY_MS);
  const first = recent[0];
  const last = recent.at(-1);
  if (!first || !last || first === last) return null;
  const days = (Date.parse(last.day) - Date.parse(first.day)) / DAY_MS;
  if (days < 1) return null;
  const perDay = (last.usedBytes - first.usedBytes) / days;
  // The first day is the starting point: what was freed after it is counted, as the growth is.
  const freedPerDay = recent.filter((sample) => sample !== first).reduce((sum, sample) => sum + (sample.freedBytes ?? 0), 0) / days;
  const fullIn = perDay > 0 ? `full in ${freeBytes / perDay > FORESEEABLE_DAYS ? 'more than 5 years' : `about ${inWords(freeBytes / perDay)}`} at this pace` : null;
  if (freedPerDay > 0) {
    const added = `Backups add about ${formatBytes((perDay + freedPerDay) * 7)} a week and removing old ones frees about ${formatBytes(freedPerDay * 7)}`;
    return fullIn === null ? `${added}: the disk is not filling up.` : `${added}: ${fullIn}.`;
  }
  if (fullIn === null) return `No growth over the last ${inWords(days)}.`;
  return `Grows about ${formatBytes(perDay * 7)} a week: ${fullIn}.`;
}
