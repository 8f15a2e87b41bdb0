import { formatBytes } from '../../common/format-bytes.js';

export interface UsageSample {
  /** `YYYY-MM-DD` */
  day: string;
  usedBytes: number;
}

const DAY_MS = 86_400_000;
/** The trend looks back this far: recent habits, not the first big backup. */
const WINDOW_DAYS = 30;
/** Beyond this, "full in about 7 years" claims more than a trend can tell. */
const FORESEEABLE_DAYS = 5 * 365;

const dayOf = (date: Date): string => date.toISOString().slice(0, 10);

/** Today's measurement replaces an earlier one of the same day; the list keeps the last `keep` days. */
export function recordUsage(samples: UsageSample[], usedBytes: number, now: Date, keep: number): UsageSample[] {
  const day = dayOf(now);
  const earlier = samples.filter((sample) => sample.day !== day);
  return [...earlier, { day, usedBytes }].slice(-keep);
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
  if (perDay <= 0) return `No growth over the last ${inWords(days)}.`;
  const fullIn = freeBytes / perDay;
  return `Grows about ${formatBytes(perDay * 7)} a week: full in ${fullIn > FORESEEABLE_DAYS ? 'more than 5 years' : `about ${inWords(fullIn)}`} at this pace.`;
}
