import type { LogEntry, Summary } from '../../contract.js';
import type { RequestEvent } from '../../../server/events.js';
import { SummaryFolder } from './summaries.js';

/** Requests kept for the live log; a backup makes a few per pack, so this is the last minutes of traffic. */
const ENTRIES_KEPT = 5000;
const SUMMARIES_KEPT = 500;

class Ring<T> {
  private readonly items: T[] = [];
  constructor(private readonly capacity: number) {}

  push(...items: T[]): void {
    this.items.push(...items);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  last(count: number): T[] {
    return this.items.slice(-count);
  }
}

export function toLogEntry(event: RequestEvent, computer: string | null): LogEntry {
  return {
    time: event.time.toISOString(),
    remoteAddress: event.remoteAddress,
    user: event.user,
    computer,
    method: event.method,
    path: event.path,
    repo: event.repo,
    type: event.type,
    status: event.status,
    bytes: event.bytes,
    durationMs: Math.round(event.durationMs),
    completed: event.completed,
  };
}

export interface RequestLogListener {
  requests(entries: LogEntry[]): void;
  summary(summary: Summary): void;
}

/**
 * The live log: the last requests and the summaries folded from them, with
 * listeners for both. `nameOf` gives a user's computer name.
 */
export class RequestLog {
  private readonly entries = new Ring<LogEntry>(ENTRIES_KEPT);
  private readonly summaries = new Ring<Summary>(SUMMARIES_KEPT);
  private readonly folder = new SummaryFolder();
  private readonly listeners = new Set<RequestLogListener>();

  constructor(private readonly nameOf: (user: string | null) => string | null) {}

  add(events: RequestEvent[]): void {
    const entries = events.map((event) => toLogEntry(event, this.nameOf(event.user)));
    this.entries.push(...entries);
    const summaries = entries.flatMap((entry) => this.folder.fold(entry, entry.computer ?? entry.user ?? 'A client without login'));
    for (const listener of this.listeners) listener.requests(entries);
    this.announce(summaries);
  }

  /** Reports the restic runs that fell silent; called every minute or so. */
  expire(now = new Date()): void {
    this.announce(this.folder.expire(now));
  }

  /** Adds a summary that did not come from a request (the disk left, the server stopped). */
  note(summary: Summary): void {
    this.announce([summary]);
  }

  private announce(summaries: Summary[]): void {
    this.summaries.push(...summaries);
    for (const summary of summaries) for (const listener of this.listeners) listener.summary(summary);
  }

  recent(limit = 500): LogEntry[] {
    return this.entries.last(limit);
  }

  recentSummaries(limit = SUMMARIES_KEPT): Summary[] {
    return this.summaries.last(limit);
  }

  subscribe(listener: RequestLogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
