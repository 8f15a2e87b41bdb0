import type { LogEntry, Summary } from '../../contract.js';
import { formatBytes } from '../../common/format-bytes.js';

/** A restic run that stopped sending requests for this long without removing its lock has ended badly. */
export const SESSION_IDLE_MS = 10 * 60_000;
/** Read-only runs (snapshots, check, restore) are summed up only past this much data. */
const READ_WORTH_SAYING = 1_000_000;
/** Refused logins from one address are reported at most this often. */
const REFUSAL_REPEAT_MS = 60_000;
/** The most addresses and runs remembered at once (a flood of new ones forgets the oldest). */
export const MAX_REMEMBERED = 1000;

/** Sets a key as the newest of a map kept in insertion order, forgetting the oldest past the bound. */
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= MAX_REMEMBERED) break;
    map.delete(oldest);
  }
}

interface Session {
  name: string;
  user: string | null;
  lastAt: number;
  started: boolean;
  uploaded: number;
  read: number;
  snapshots: number;
  removed: number;
  said: Set<string>;
}

/**
 * Folds request events into what a person wants to read: "Anna's laptop:
 * backup started", "... backup finished, 1.2 GB uploaded". A restic run is
 * the requests of one user on one repository: it starts with a lock and ends
 * when the lock is removed (or when it falls silent).
 */
export class SummaryFolder {
  private readonly sessions = new Map<string, Session>();
  private readonly refusals = new Map<string, number>();

  /** Addresses and runs held in memory now. */
  get remembered(): number {
    return this.refusals.size + this.sessions.size;
  }

  /** `name` is the computer's display name (or the user name). */
  fold(entry: LogEntry, name: string): Summary[] {
    const at = Date.parse(entry.time);
    const out: Summary[] = [];
    const say = (message: string, severity: Summary['severity'] = 'info') => out.push({ time: entry.time, user: entry.user, message, severity });
    if (entry.status === 401) {
      const last = this.refusals.get(entry.remoteAddress);
      if (last === undefined || at - last >= REFUSAL_REPEAT_MS) {
        remember(this.refusals, entry.remoteAddress, at);
        say(`A login was refused for ${entry.user ?? 'an unknown user'} from ${entry.remoteAddress} (wrong password?).`, 'warning');
      }
      return out;
    }
    if (entry.repo === null) return out;
    const key = `${entry.user ?? ''}\n${entry.repo}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = { name, user: entry.user, lastAt: at, started: false, uploaded: 0, read: 0, snapshots: 0, removed: 0, said: new Set() };
      remember(this.sessions, key, session);
    }
    session.lastAt = at;
    const once = (what: string, message: string, severity: Summary['severity']) => {
      if (session.said.has(what)) return;
      session.said.add(what);
      say(message, severity);
    };
    const ok = entry.status >= 200 && entry.status < 300;
    if (entry.status === 507) once('full', `${name}: the backup disk is full; uploads are refused.`, 'error');
    else if (entry.status === 503) once('disk', `${name}: the backup disk is not connected; requests are refused.`, 'error');
    else if (entry.status === 403 && entry.method === 'DELETE') once('append-only', `${name}: deleting was refused (append-only).`, 'warning');
    if (!ok) return out;

    if (entry.method === 'POST' && entry.type !== null && entry.type !== 'locks') {
      if (!session.started) {
        session.started = true;
        say(`${name}: backup started.`);
      }
      session.uploaded += entry.bytes;
      if (entry.type === 'snapshots') session.snapshots++;
    } else if (entry.method === 'DELETE' && entry.type !== 'locks') {
      session.removed++;
      once('removing', `${name}: removing old backups (forget/prune).`, 'info');
    } else if (entry.method === 'GET') {
      session.read += entry.bytes;
    } else if (entry.method === 'DELETE' && entry.type === 'locks') {
      this.sessions.delete(key);
      const finished = this.finish(session);
      if (finished) say(finished);
    }
    return out;
  }

  /** Ends the runs that fell silent (a client that crashed or lost the network). */
  expire(now: Date): Summary[] {
    const out: Summary[] = [];
    for (const [address, at] of this.refusals) if (now.getTime() - at >= REFUSAL_REPEAT_MS) this.refusals.delete(address);
    for (const [key, session] of this.sessions) {
      if (now.getTime() - session.lastAt < SESSION_IDLE_MS) continue;
      this.sessions.delete(key);
      if (session.started) {
        out.push({
          time: now.toISOString(),
          user: session.user,
          message: `${session.name}: backup stopped without finishing (${formatBytes(session.uploaded)} uploaded); restic continues it next time.`,
          severity: 'warning',
        });
      }
    }
    return out;
  }

  private finish(session: Session): string | undefined {
    if (session.snapshots > 0) return `${session.name}: backup finished, ${formatBytes(session.uploaded)} uploaded.`;
    if (session.started) return `${session.name}: finished, ${formatBytes(session.uploaded)} uploaded.`;
    if (session.removed > 0) return `${session.name}: removed ${session.removed} old file${session.removed === 1 ? '' : 's'}.`;
    if (session.read >= READ_WORTH_SAYING) return `${session.name}: read ${formatBytes(session.read)} (check or restore).`;
    return undefined;
  }
}
