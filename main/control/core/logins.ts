import { randomInt } from 'node:crypto';
import { access, copyFile, readFile } from 'node:fs/promises';
import { hashPassword, parseHtpasswd, type ParsedHtpasswd } from '../../../server/htpasswd.js';
import { writeFileAtomically } from './files.js';

/** No look-alikes (0/O, 1/l/I): the password may be read off a screen and typed. */
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * A strong password that needs no escaping in any shell or URL: four groups
 * of six letters and digits (about 140 bits).
 */
export function generatePassword(): string {
  const group = () => Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return [group(), group(), group(), group()].join('-');
}

/** The name the maintenance login is given when it is free. */
export const MAINTENANCE_USER = 'maintenance';

/**
 * Names the server gives a meaning: `metrics` may read /metrics under
 * private repositories; restic's folder names (and `config`) cannot be a
 * repository's first folder, so such a login's `restic init` would always
 * be refused. `maintenance` belongs to the maintenance login: a computer
 * called "Maintenance" would otherwise look like it (issue 24).
 */
const RESERVED = new Set(['metrics', 'data', 'keys', 'locks', 'snapshots', 'index', 'config', MAINTENANCE_USER]);

/** The first of `base`, `base-2`, `base-3`, ... that `free` accepts. */
function firstFree(base: string, free: (name: string) => boolean): string {
  if (free(base)) return base;
  for (let n = 2; ; n++) if (free(`${base}-${n}`)) return `${base}-${n}`;
}

/** A computer's user name from its display name: "Anna's Laptop" -> `annas-laptop`, "Zoë" -> `zoe`, unique among `taken`. */
export function usernameFor(displayName: string, taken: ReadonlySet<string>): string {
  const base =
    displayName
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/['’]/g, '')
      .replace(/[^\p{L}\p{N}]+/gu, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32)
      .replace(/-+$/, '') || 'computer';
  return firstFree(base, (name) => !taken.has(name) && !RESERVED.has(name));
}

/** The maintenance login's user name: `maintenance`, or `maintenance-2`, ... when a login of an older version holds it. */
export function maintenanceUsername(taken: ReadonlySet<string>): string {
  return firstFree(MAINTENANCE_USER, (name) => !taken.has(name));
}

/**
 * The server's password file, written only by the app: bcrypt hashes,
 * replaced atomically, so the running server (which watches the file) picks
 * up every change at once and never sees half a file. A damaged file is
 * copied aside before the first rewrite, so nothing in it is lost.
 */
export class Logins {
  private writing: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {}

  async read(): Promise<ParsedHtpasswd> {
    try {
      return parseHtpasswd(await readFile(this.file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { users: new Map(), problems: [], broken: 0 };
      throw error;
    }
  }

  /** Creates the file empty if it does not exist (the server needs one to start). */
  async ensure(): Promise<void> {
    try {
      await access(this.file);
    } catch {
      await this.change(() => undefined);
    }
  }

  /** Sets a user's password (a new user, or a reset). */
  async set(user: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.change((users) => {
      users.set(user, hash);
    });
  }

  async remove(user: string): Promise<void> {
    await this.change((users) => {
      users.delete(user);
    });
  }

  private change(edit: (users: Map<string, string>) => void): Promise<void> {
    const next = this.writing.then(async () => {
      const parsed = await this.read();
      if (parsed.broken > 0) await copyFile(this.file, `${this.file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const users = new Map([...parsed.users].map(([user, entry]) => [user, entry.hash]));
      edit(users);
      const text = [...users].map(([user, hash]) => `${user}:${hash}\n`).join('');
      await writeFileAtomically(this.file, text, 0o600);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}
