import bcrypt from 'bcryptjs';
import { createHash, timingSafeEqual } from 'node:crypto';
import { BcryptWorker } from './bcrypt-worker.js';

/** rest-server's rule for user names. */
export const USERNAME = /^[\p{L}\d@._-]+$/u;

export type HashFormat = 'bcrypt' | 'sha1' | 'apr1' | 'unsupported';

export interface HtpasswdEntry {
  hash: string;
  format: HashFormat;
}

export interface ParsedHtpasswd {
  users: Map<string, HtpasswdEntry>;
  /** What was wrong with lines that were skipped or users that can never log in. */
  problems: string[];
  /** Lines that are not `user:hash` at all: the file is damaged (or half-written). */
  broken: number;
}

export function hashFormat(hash: string): HashFormat {
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('{SHA}')) return 'sha1';
  if (hash.startsWith('$apr1$')) return 'apr1';
  return 'unsupported';
}

/** Apache's default `$apr1$` (MD5) is read, but it is weak: the GUI flags it. */
export const isWeakFormat = (format: HashFormat): boolean => format !== 'bcrypt';

/** ` "text"` when it is short and printable, so a damaged file never puts junk on a terminal; else nothing. */
function quoted(text: string): string {
  return text.length <= 40 && /^[\p{L}\p{N}\p{P}\p{S} ]*$/u.test(text) ? ` ${JSON.stringify(text)}` : '';
}

/** One line for all the problems of a file: how many, and the first ones in words. */
export function summarizeProblems(problems: readonly string[]): string {
  const shown = problems.slice(0, 2).join('; ');
  return problems.length > 2 ? `${problems.length} problems: ${shown}; and ${problems.length - 2} more` : shown;
}

/** Reads an `.htpasswd` text: `user:hash` lines, blank lines and `#` comments ignored. */
export function parseHtpasswd(text: string): ParsedHtpasswd {
  const users = new Map<string, HtpasswdEntry>();
  const problems: string[] = [];
  let broken = 0;
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = colon === -1 ? '' : line.slice(0, colon);
    const hash = colon === -1 ? '' : line.slice(colon + 1).trim();
    if (colon === -1 || hash === '') {
      problems.push(`line ${index + 1}: expected user:hash`);
      broken++;
      return;
    }
    if (!USERNAME.test(user)) {
      problems.push(`line ${index + 1}: invalid user name${quoted(user)} (allowed: letters, digits, @ . _ -)`);
      broken++;
      return;
    }
    const format = hashFormat(hash);
    if (format === 'unsupported') {
      problems.push(`user ${user}: unsupported password format${quoted(hash.slice(0, 6))}; use bcrypt (htpasswd -B), {SHA} or $apr1$`);
    }
    if (users.has(user)) problems.push(`line ${index + 1}: user ${user} appears again; the later line wins`);
    users.set(user, { hash, format });
  });
  return { users, problems, broken };
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(value: number, digits: number): string {
  let out = '';
  for (let v = value, n = digits; n > 0; n--, v >>= 6) out += ITOA64[v & 0x3f];
  return out;
}

const md5 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** Apache's MD5-crypt (`$apr1$salt$hash`), as `htpasswd -m` writes it. */
export function apr1(password: string, salt: string): string {
  const magic = Buffer.from('$apr1$');
  const pw = Buffer.from(password);
  const s = Buffer.from(salt.slice(0, 8));
  const alternate = md5(pw, s, pw);
  const parts: Buffer[] = [pw, magic, s];
  for (let left = pw.length; left > 0; left -= 16) parts.push(alternate.subarray(0, Math.min(left, 16)));
  for (let i = pw.length; i > 0; i >>= 1) parts.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let final = md5(...parts);
  for (let i = 0; i < 1000; i++) {
    const round: Buffer[] = [i & 1 ? pw : final];
    if (i % 3) round.push(s);
    if (i % 7) round.push(pw);
    round.push(i & 1 ? final : pw);
    final = md5(...round);
  }
  const f = (i: number) => final[i] as number;
  const encoded =
    to64((f(0) << 16) | (f(6) << 8) | f(12), 4) +
    to64((f(1) << 16) | (f(7) << 8) | f(13), 4) +
    to64((f(2) << 16) | (f(8) << 8) | f(14), 4) +
    to64((f(3) << 16) | (f(9) << 8) | f(15), 4) +
    to64((f(4) << 16) | (f(10) << 8) | f(5), 4) +
    to64(f(11), 2);
  return `$apr1$${s.toString()}$${encoded}`;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export type BcryptCompare = (password: string, hash: string) => Promise<boolean>;

/** Checks a password against one stored hash; the comparisons are constant-time. bcrypt runs where `compare` says. */
export async function verifyPassword(entry: HtpasswdEntry, password: string, compare: BcryptCompare = bcrypt.compare): Promise<boolean> {
  switch (entry.format) {
    case 'bcrypt':
      return compare(password, entry.hash);
    case 'sha1':
      return sameText(entry.hash, `{SHA}${createHash('sha1').update(password).digest('base64')}`);
    case 'apr1': {
      const salt = entry.hash.slice('$apr1$'.length).split('$')[0] ?? '';
      return sameText(entry.hash, apr1(password, salt));
    }
    default:
      return false;
  }
}

const hasher = new BcryptWorker();

/** The only format the app writes. */
export function hashPassword(password: string): Promise<string> {
  return hasher.hash(password, 10);
}
