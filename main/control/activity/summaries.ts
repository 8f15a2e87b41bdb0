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
  /** Files written and deleted in the run, per type (`index`, `data`, `snapshots`, `keys`). */
  written: Map<string, number>;
  deleted: Map<string, number>;
  said: Set<string>;
}

const count = (map: Map<string, number>, type: string): number => map.get(type) ?? 0;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Folds request events into what a person wants to read: "Anna's laptop:
 * backup started", "... backup finished, 1.2 GB uploaded". A restic run is
 * the requests of one user on one repository: it starts with a lock and ends
 * when the lock is removed (or when it falls silent).
 *
 * What a run is comes from the files it touches, not from the command's
 * name, which the server never sees: a snapshot written is a backup;
 * snapshots deleted are forgotten; packs (`data`) deleted are pruned; index
 * files written and old ones deleted, with no pack or snapshot deleted, are
 * an index rebuilt (`rebuild-index`, `repair index`), which writes no backup.
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
      session = { name, user: entry.user, lastAt: at, started: false, uploaded: 0, read: 0, snapshots: 0, written: new Map(), deleted: new Map(), said: new Set() };
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
      session.written.set(entry.type, count(session.written, entry.type) + 1);
      session.uploaded += entry.bytes;
      if (entry.type === 'snapshots') session.snapshots++;
      // Backups upload packs and end with a snapshot; a run that already deleted is cleaning up (prune repacks), not backing up.
      if ((entry.type === 'data' || entry.type === 'snapshots') && !session.started && session.deleted.size === 0) {
        session.started = true;
        say(`${name}: backup started.`);
      }
      // restic init writes the config, once in a repository's life, and takes no lock.
      if (entry.type === 'config') once('created', `${name}: its backup repository was created (restic init).`, 'info');
    } else if (entry.method === 'DELETE' && entry.type !== null && entry.type !== 'locks') {
      session.deleted.set(entry.type, count(session.deleted, entry.type) + 1);
      if (entry.type === 'snapshots') once('forgetting', `${name}: forgetting old backups (restic forget).`, 'info');
      else if (entry.type === 'data') once('pruning', `${name}: pruning: deleting data that no backup needs any more.`, 'info');
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
    const { name, written, deleted } = session;
    if (session.snapshots > 0) return `${name}: backup finished, ${formatBytes(session.uploaded)} uploaded.`;
    const forgot = count(deleted, 'snapshots');
    const pruned = count(deleted, 'data');
    if (forgot > 0 || pruned > 0) {
      const done = [...(forgot > 0 ? [`forgot ${plural(forgot, 'old backup')}`] : []), ...(pruned > 0 ? [`pruned ${plural(pruned, 'file')} that no backup needed`] : [])];
      return `${name}: ${done.join(' and ')}.`;
    }
    if (session.started) return `${name}: finished, ${formatBytes(session.uploaded)} uploaded.`;
    if (count(written, 'index') > 0 && count(deleted, 'index') > 0) {
      return `${name}: rebuilt the index: ${plural(count(written, 'index'), 'index file')} written, ${count(deleted, 'index')} old one${count(deleted, 'index') === 1 ? '' : 's'} deleted; no backup was removed.`;
    }
    const removed = [...deleted.values()].reduce((sum, n) => sum + n, 0);
    if (removed > 0) return `${name}: deleted ${plural(removed, 'file')} (${[...deleted.keys()].join(', ')}).`;
    if (session.read >= READ_WORTH_SAYING) return `${name}: read ${formatBytes(session.read)} (check or restore).`;
    return undefined;
  }
}
