import { formatBytes as formatCount } from '../../main/common/format-bytes.js';

/** A byte count, or a dash where there is none. */
export const formatBytes = (bytes: number | null | undefined): string => (bytes === null || bytes === undefined ? '–' : formatCount(bytes));

/** "1 snapshot", "3 snapshots". */
export const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** "just now", "5 minutes ago", "2 hours ago", "3 days ago". */
export function timeAgo(iso: string | null, now = Date.now()): string {
  if (iso === null) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const say = (n: number, unit: string) => `${plural(n, unit)} ago`;
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return say(Math.floor(seconds / 60), 'minute');
  if (seconds < 86_400) return say(Math.floor(seconds / 3600), 'hour');
  return say(Math.floor(seconds / 86_400), 'day');
}

/** A day, as this computer writes dates: "5 Jan 2027". */
export function formatDay(iso: string): string {
  return new Date(iso).toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** GB typed by a person -> bytes; empty means no limit. */
export function parseGigabytes(text: string): number | null | 'invalid' {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed.replace(',', '.'));
  return Number.isFinite(value) && value > 0 ? Math.round(value * 1e9) : 'invalid';
}

/** A port typed by a person; a wrong one throws the sentence to show. */
export function parsePort(text: string): number {
  const port = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || port < 1 || port > 65535) throw new Error('The port is a whole number from 1 to 65535, such as 8000.');
  return port;
}
