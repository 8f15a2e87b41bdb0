import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { RequestEvent } from './events.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');

/** `[10/Oct/2000:13:55:36 -0700]`, in the server's local time zone. */
export function apacheTime(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const zone = `${offset >= 0 ? '+' : '-'}${pad(offset / 60)}${pad(offset % 60)}`;
  return `[${pad(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone}]`;
}

/** Quotes a header for the log: no line breaks or quotes can forge entries. */
const quoted = (value: string | null) => (value === null || value === '' ? '"-"' : JSON.stringify(value));

/** One line of Apache's combined log format, with the authenticated user filled in. */
export function combinedLogLine(event: RequestEvent): string {
  const request = JSON.stringify(`${event.method} ${event.url} HTTP/${event.httpVersion}`);
  const size = event.responseBytes > 0 ? String(event.responseBytes) : '-';
  const user = event.user === null ? '-' : event.user.replace(/\s/g, '_');
  return `${event.remoteAddress || '-'} - ${user} ${apacheTime(event.time)} ${request} ${event.status} ${size} ${quoted(event.referer)} ${quoted(event.userAgent)}\n`;
}

/** Where `--log` writes: a file (appended to) or `-` for standard output. */
export function openLogTarget(target: string): WriteStream | NodeJS.WriteStream {
  return target === '-' ? process.stdout : createWriteStream(target, { flags: 'a', mode: 0o600 });
}

/** Writes a batch of lines (and a note of lines lost), waiting for the stream to drain when it asks to. */
export async function writeLines(stream: NodeJS.WritableStream, events: RequestEvent[], newlyDropped: number): Promise<void> {
  let text = events.map(combinedLogLine).join('');
  if (newlyDropped > 0) text += `# ${newlyDropped} log lines dropped: the log could not keep up\n`;
  if (!stream.write(text)) await once(stream, 'drain');
}
