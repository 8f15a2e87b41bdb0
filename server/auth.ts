import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, statSync, unwatchFile, watchFile, type BigIntStats, type Stats } from 'node:fs';
import { BcryptWorker } from './bcrypt-worker.js';
import { CheckGate } from './check-gate.js';
import { CheckLimits } from './check-limits.js';
import { parseHtpasswd, summarizeProblems, verifyPassword, type HtpasswdEntry } from './htpasswd.js';

/** A verified user:password is trusted this long without bcrypt (which costs ~100 ms of CPU). */
const CACHE_MS = 60_000;
/**
 * A user:password verified this recently is checked before all others: a
 * family computer that backs up every hour or day is not kept waiting by a
 * flood of strangers' checks.
 */
const RECENT_MS = 24 * 60 * 60_000;
/** The most verified logins remembered (the oldest are forgotten first). */
const MAX_VERIFIED = 10_000;
/** The order in which waiting password checks are taken. */
const PRIORITY = { recent: 0, clean: 1, failing: 2 } as const;
/**
 * Checks of logins not verified recently that may wait or run at once, from
 * one address, from one network (/24, /64), and in all; beyond these, a
 * login is refused at once without a check. One check costs ~100 ms, so the
 * queue holds a few seconds of work at most.
 */
const NEW_CHECKS = { perAddress: 4, perNetwork: 16, inAll: 64 };
/**
 * Failures of one user name from one address before answers to it slow down,
 * and how much. The rule is the same whether the name exists or not: a
 * different delay for unknown names would tell a prober which names exist.
 */
const FREE_FAILURES = 3;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;
/** A login and address with no failure for this long start afresh. */
const FORGET_FAILURES_MS = 10 * 60_000;
/** The most logins and addresses whose failures are remembered (the oldest are forgotten first). */
const MAX_PENALTIES = 10_000;
/** Password checks running at once in the whole server: its one bcrypt worker thread takes them in turn. */
const CHECKS_IN_FLIGHT = 1;
/** How often the file is looked at for changes. */
const WATCH_MS = 1000;
/**
 * How long a file that looks half-written is left before it is read again.
 * Apache's htpasswd rewrites the file in place (truncate, then write), so a
 * read can fall in between; that read must not become "no valid user".
 */
const SETTLE_MS = 200;

export type AuthResult = { ok: true; user: string } | { ok: false; reason: string; delayMs: number };

/** One read of the password file, and the file's identity, size and times when it was read. */
interface FileRead {
  bytes: Buffer;
  state: string;
}

const stateOf = (stats: BigIntStats): string => `${stats.ino} ${stats.size} ${stats.mtimeNs} ${stats.ctimeNs}`;

/** Reads the file; undefined when it changed during the read (its size or times before and after differ). */
function readWhole(file: string): FileRead | undefined {
  const before = statSync(file, { bigint: true });
  const bytes = readFileSync(file);
  const after = statSync(file, { bigint: true });
  const state = stateOf(after);
  return state === stateOf(before) && BigInt(bytes.length) === after.size ? { bytes, state } : undefined;
}

interface Penalty {
  failures: number;
  last: number;
}

type Outcome = 'ok' | 'wrong' | 'gone';

/** A password check waiting or running, shared by the requests that carry the same credentials. */
interface Check {
  outcome: Promise<Outcome>;
  /** One per request waiting for it: whether that client has left. */
  gone: (() => boolean)[];
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

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomText = (alphabet: string, length: number): string =>
  Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');

/**
 * A stand-in entry in the commonest format (and bcrypt cost) of the file:
 * checking a password against it costs what checking a known user's does,
 * so unknown names cannot be told apart by timing. It needs to be no real
 * hash of anything: the check does the same work whatever the stored text.
 */
function standInFor(users: ReadonlyMap<string, HtpasswdEntry>): HtpasswdEntry {
  const counts = new Map<string, number>();
  for (const { hash, format } of users.values()) {
    const kind = format === 'bcrypt' ? hash.slice(0, 7) : format;
    if (format !== 'unsupported') counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const kind = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '$2b$10$';
  if (kind === 'sha1') return { format: 'sha1', hash: `{SHA}${randomBytes(20).toString('base64')}` };
  if (kind === 'apr1') return { format: 'apr1', hash: `$apr1$${randomText(BCRYPT_ALPHABET, 8)}$${randomText(BCRYPT_ALPHABET, 22)}` };
  return { format: 'bcrypt', hash: kind + randomText(BCRYPT_ALPHABET, 53) };
}

/**
 * The users of an `.htpasswd` file: reloaded when the file changes (and on
 * demand, for SIGHUP). Lines that are not valid are skipped, at start and on
 * reload alike; only a file that cannot be read keeps the previous users.
 */
export class Authenticator {
  private users = new Map<string, HtpasswdEntry>();
  private standIn = standInFor(new Map());
  /** The size of the file as last applied: a read that is shorter may be htpasswd half-way through rewriting it. */
  private appliedSize = 0;
  private settling: NodeJS.Timeout | undefined;
  /** Keys the digests of user:password, so that no password is kept in a form one could test guesses against offline. */
  private readonly digestKey = randomBytes(32);
  /** Verified logins by digest, with the stored hash they matched, in order of verification. */
  private readonly verified = new Map<string, { hash: string; at: number }>();
  private readonly checks = new Map<string, Check>();
  private readonly limits = new CheckLimits(NEW_CHECKS);
  /** Per user name and address, whether the name exists or not, in order of the last failure. */
  private readonly penalties = new Map<string, Penalty>();
  private readonly gate = new CheckGate(CHECKS_IN_FLIGHT, Object.keys(PRIORITY).length);
  private readonly bcrypt = new BcryptWorker();
  private readonly onChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) this.reload();
  };

  /** Throws, naming the file and the fix, when the file cannot be read at start. */
  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
  ) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'ENOENT'
          ? `the password file ${file} does not exist. Create it with users (htpasswd -B -c ${file} USER), or start with --no-auth.`
          : `cannot read the password file ${file} (${code ?? (error as Error).message}).`,
      );
    }
    this.apply(bytes);
    watchFile(file, { interval: WATCH_MS, persistent: false }, this.onChange);
  }

  get userNames(): string[] {
    return [...this.users.keys()];
  }

  /** Takes every valid line; says in one line what was skipped, and loudly when nobody can log in. */
  private apply(bytes: Buffer): void {
    this.appliedSize = bytes.length;
    const parsed = parseHtpasswd(bytes.toString('utf8'));
    if (parsed.problems.length > 0) this.warn(`${this.file}: ${summarizeProblems(parsed.problems)}`);
    this.users = parsed.users;
    if (parsed.users.size === 0) {
      this.warn(`${this.file} has no valid user: every request will be refused (401). Add one with htpasswd -B ${this.file} USER.`);
    }
    this.standIn = standInFor(parsed.users);
  }

  /**
   * Re-reads the file; if it cannot be read at all, the users stay as they
   * were. A read the file changed under is never applied, nor one that looks
   * half-written (empty, shorter than the file last applied, or not ending
   * with a whole line) until the file has stayed the same for a moment.
   */
  reload(whole = false): void {
    if (whole) {
      clearTimeout(this.settling);
      this.settling = undefined;
    } else if (this.settling) {
      // A re-read is due shortly, and it reads the file as it is then.
      return;
    }
    this.reread(undefined, whole);
  }

  /**
   * `suspect`: the state of the file when a read looked half-written, a moment ago.
   * `whole`: the caller has just written the file whole (atomically), so a shorter one is no half-written one.
   */
  private reread(suspect: string | undefined, whole = false): void {
    let read: FileRead | undefined;
    try {
      read = readWhole(this.file);
    } catch (error) {
      this.warn(`cannot reload ${this.file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); keeping the previous users`);
      return;
    }
    if (read && (whole || read.state === suspect || !this.looksUnfinished(read.bytes))) return this.apply(read.bytes);
    this.settling = setTimeout(() => {
      this.settling = undefined;
      this.reread(read?.state);
    }, SETTLE_MS);
    this.settling.unref();
  }

  private looksUnfinished(bytes: Buffer): boolean {
    return bytes.length === 0 || bytes.length < this.appliedSize || bytes.at(-1) !== 0x0a;
  }

  close(): void {
    clearTimeout(this.settling);
    unwatchFile(this.file, this.onChange);
    void this.bcrypt.close();
  }

  /**
   * Checks Basic credentials. A success is cached (keyed by a digest of
   * user:password, and only while the user's stored hash is unchanged: a
   * reload that leaves the user's line as it was keeps it).
   * Failures count per user name and address, known names and unknown ones
   * alike, so a guesser behind a shared address does not lock out another
   * user there, and a correct password is always checked and accepted. Wrong
   * ones are answered more and more slowly. When checks wait, logins verified
   * in the last day go first, then those without failures; logins not
   * verified lately may wait only in bounded numbers per address, network
   * and in all, and beyond that are refused unchecked.
   */
  async authenticate(header: string | undefined, address: string, gone: () => boolean = () => false): Promise<AuthResult> {
    const credentials = parseBasic(header);
    if (!credentials) return { ok: false, reason: 'authentication required', delayMs: 0 };
    const { user, password } = credentials;
    const digest = createHmac('sha256', this.digestKey).update(`${user}:${password}`).digest('hex');
    if (this.cached(user, digest)) return { ok: true, user };
    const penaltyKey = `${user}\n${address}`;
    let check = this.checks.get(digest);
    if (check) check.gone.push(gone);
    else {
      const now = Date.now();
      const recent = now - (this.verified.get(digest)?.at ?? -Infinity) <= RECENT_MS;
      let release = () => {};
      if (!recent) {
        const place = this.limits.take(address);
        if ('refusal' in place) return { ok: false, reason: place.refusal, delayMs: 0 };
        release = place.release;
      }
      const priority = recent ? PRIORITY.recent : this.penaltyOf(penaltyKey, now) ? PRIORITY.failing : PRIORITY.clean;
      check = this.startCheck(priority, user, password, digest, gone, release);
    }
    const outcome = await check.outcome;
    if (outcome === 'ok') {
      this.penalties.delete(penaltyKey);
      return { ok: true, user };
    }
    if (outcome === 'gone') {
      // Every client had left when the check's turn came; one that came since is checked anew.
      if (!gone()) return this.authenticate(header, address, gone);
      return { ok: false, reason: 'the client left before its password was checked', delayMs: 0 };
    }
    const { failures, delayMs } = this.fail(penaltyKey);
    // The wait is said in words, so that a person whose answers slow down knows why; a guesser can time it anyway.
    const reason =
      delayMs > 0
        ? `wrong user name or password; after ${failures} failed logins of this name from your address, this answer waited ${delayMs / 1000} s`
        : 'wrong user name or password';
    return { ok: false, reason, delayMs };
  }

  /** Queues one bcrypt for `digest`; requests with the same credentials that come meanwhile wait for it too. */
  private startCheck(priority: number, user: string, password: string, digest: string, gone: () => boolean, release: () => void): Check {
    const waiting = [gone];
    const outcome = this.gate
      .run(priority, async (): Promise<Outcome> => {
        if (this.cached(user, digest)) return 'ok';
        // Clients that left while waiting cost no bcrypt, and no failure is counted for them.
        if (waiting.every((left) => left())) return 'gone';
        const entry = this.users.get(user);
        const verified = await verifyPassword(entry ?? this.standIn, password, (plain, hash) => this.bcrypt.compare(plain, hash));
        // The file may have been reloaded meanwhile: what counts is that the user's line still holds this hash.
        if (!verified || !entry || this.users.get(user)?.hash !== entry.hash) return 'wrong';
        this.remember(digest, entry.hash);
        return 'ok';
      })
      .finally(() => {
        this.checks.delete(digest);
        release();
      });
    const check = { outcome, gone: waiting };
    this.checks.set(digest, check);
    return check;
  }

  private cached(user: string, digest: string): boolean {
    const verified = this.verified.get(digest);
    return verified !== undefined && this.users.get(user)?.hash === verified.hash && Date.now() - verified.at < CACHE_MS;
  }

  /** Keeps a verified login, forgetting the oldest beyond the bound or the day. */
  private remember(digest: string, hash: string): void {
    const now = Date.now();
    this.verified.delete(digest);
    this.verified.set(digest, { hash, at: now });
    for (const [oldest, value] of this.verified) {
      if (this.verified.size <= MAX_VERIFIED && now - value.at <= RECENT_MS) break;
      this.verified.delete(oldest);
    }
  }

  private penaltyOf(penaltyKey: string, now: number): Penalty | undefined {
    const penalty = this.penalties.get(penaltyKey);
    if (penalty && now - penalty.last > FORGET_FAILURES_MS) {
      this.penalties.delete(penaltyKey);
      return undefined;
    }
    return penalty;
  }

  /** Counts a failure; says how many there are now and how long its answer waits. */
  private fail(penaltyKey: string): { failures: number; delayMs: number } {
    const now = Date.now();
    const penalty = this.penaltyOf(penaltyKey, now) ?? { failures: 0, last: now };
    penalty.failures++;
    penalty.last = now;
    // Kept in order of the last failure: the oldest are first, to be forgotten first.
    this.penalties.delete(penaltyKey);
    this.penalties.set(penaltyKey, penalty);
    for (const [oldest, value] of this.penalties) {
      if (this.penalties.size <= MAX_PENALTIES && now - value.last <= FORGET_FAILURES_MS) break;
      this.penalties.delete(oldest);
    }
    const extra = penalty.failures - FREE_FAILURES;
    return { failures: penalty.failures, delayMs: extra > 0 ? Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (extra - 1)) : 0 };
  }

  /** Logins and addresses whose failures are remembered now. */
  get rememberedFailures(): number {
    return this.penalties.size;
  }
}
