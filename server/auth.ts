import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { parseHtpasswd, verifyPassword, type HtpasswdEntry } from './htpasswd.js';

/** A verified user:password is trusted this long without bcrypt (which costs ~100 ms of CPU). */
const CACHE_MS = 60_000;
/** Failures from one address before answers to it slow down, and how much. */
const FREE_FAILURES = 3;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;
/** An address with no failure for this long starts afresh. */
const FORGET_FAILURES_MS = 10 * 60_000;
/** How often the file is looked at for changes. */
const WATCH_MS = 1000;

// A real bcrypt hash of a random password: unknown users cost the same time
// as known ones, so names cannot be probed by timing.
const DUMMY: HtpasswdEntry = { hash: '$2a$10$CwTycUXWue0Thq9StjUM0uJ8.DTtcmhUrnJ4ahEENxm4k7Xh2JxOW', format: 'bcrypt' };

export type AuthResult = { ok: true; user: string } | { ok: false; reason: string; delayMs: number };

interface Penalty {
  failures: number;
  until: number;
  last: number;
}

/** Reads `Authorization: Basic ...`; undefined when absent or malformed. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The users of an `.htpasswd` file: reloaded when the file changes (and on
 * demand, for SIGHUP); a broken file on reload keeps the previous users.
 */
export class Authenticator {
  private users = new Map<string, HtpasswdEntry>();
  private readonly verified = new Map<string, { entry: HtpasswdEntry; expires: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly penalties = new Map<string, Penalty>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly onChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) this.reload();
  };

  /** Throws, naming the file and the fix, when the file cannot be read at start. */
  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
  ) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'ENOENT'
          ? `the password file ${file} does not exist. Create it with users (htpasswd -B -c ${file} USER), or start with --no-auth.`
          : `cannot read the password file ${file} (${code ?? (error as Error).message}).`,
      );
    }
    this.apply(text);
    watchFile(file, { interval: WATCH_MS, persistent: false }, this.onChange);
  }

  get userNames(): string[] {
    return [...this.users.keys()];
  }

  private apply(text: string): void {
    const parsed = parseHtpasswd(text);
    for (const problem of parsed.problems) this.warn(`${this.file}: ${problem}`);
    this.users = parsed.users;
  }

  /**
   * Re-reads the file. If it cannot be read, or has lines that are not
   * `user:hash` at all (damaged, or caught half-written by an editor), the
   * users stay as they were: nobody is locked out by a bad save.
   */
  reload(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      this.warn(`cannot reload ${this.file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); keeping the previous users`);
      return;
    }
    const { broken, problems } = parseHtpasswd(text);
    if (broken > 0) {
      this.warn(`${this.file} is damaged (${problems.join('; ')}); keeping the previous users`);
      return;
    }
    this.apply(text);
  }

  close(): void {
    unwatchFile(this.file, this.onChange);
  }

  /**
   * Checks Basic credentials. A success is cached (keyed by a hash of
   * user:password, and only while the user's stored hash is unchanged).
   * Repeated failures from one address are answered more and more slowly,
   * and without spending CPU on bcrypt meanwhile, so a flood of wrong
   * passwords cannot starve the other clients.
   */
  async authenticate(header: string | undefined, address: string): Promise<AuthResult> {
    const credentials = parseBasic(header);
    if (!credentials) return { ok: false, reason: 'authentication required', delayMs: 0 };
    const { user, password } = credentials;
    const entry = this.users.get(user);
    const key = createHash('sha256').update(`${user}:${password}`).digest('hex');
    const now = Date.now();
    const cached = this.verified.get(key);
    if (cached && entry && cached.entry === entry && cached.expires > now) return { ok: true, user };

    return this.oneAtATime(address, async () => {
      const penalty = this.penaltyOf(address, Date.now());
      if (penalty && penalty.until > Date.now()) {
        return { ok: false, reason: 'too many failed logins', delayMs: penalty.until - Date.now() };
      }
      const ok = await this.verifyOnce(key, entry ?? DUMMY, password);
      if (ok && entry && this.users.get(user) === entry) {
        this.verified.set(key, { entry, expires: Date.now() + CACHE_MS });
        this.penalties.delete(address);
        this.sweep(now);
        return { ok: true, user };
      }
      return { ok: false, reason: 'wrong user name or password', delayMs: this.fail(address) };
    });
  }

  /**
   * Password checks from one address run one after the other: a burst of
   * wrong passwords sent all at once meets the penalty after a few, instead
   * of costing one bcrypt each.
   */
  private oneAtATime<T>(address: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(address) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(address, tail);
    void tail.then(() => {
      if (this.queues.get(address) === tail) this.queues.delete(address);
    });
    return result;
  }

  /** Concurrent requests with the same new credentials share one bcrypt. */
  private verifyOnce(key: string, entry: HtpasswdEntry, password: string): Promise<boolean> {
    let check = this.pending.get(key);
    if (!check) {
      check = verifyPassword(entry, password).finally(() => this.pending.delete(key));
      this.pending.set(key, check);
    }
    return check;
  }

  private penaltyOf(address: string, now: number): Penalty | undefined {
    const penalty = this.penalties.get(address);
    if (penalty && now - penalty.last > FORGET_FAILURES_MS) {
      this.penalties.delete(address);
      return undefined;
    }
    return penalty;
  }

  private fail(address: string): number {
    const now = Date.now();
    const penalty = this.penaltyOf(address, now) ?? { failures: 0, until: 0, last: now };
    penalty.failures++;
    penalty.last = now;
    const extra = penalty.failures - FREE_FAILURES;
    const delay = extra > 0 ? Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (extra - 1)) : 0;
    penalty.until = now + delay;
    this.penalties.set(address, penalty);
    if (this.penalties.size > 10_000) {
      for (const [key, value] of this.penalties) if (now - value.last > FORGET_FAILURES_MS) this.penalties.delete(key);
    }
    return delay;
  }

  /** Drops expired cache entries now and then, so the cache stays small. */
  private sweep(now: number): void {
    if (this.verified.size < 1000) return;
    for (const [key, value] of this.verified) if (value.expires <= now) this.verified.delete(key);
  }
}
