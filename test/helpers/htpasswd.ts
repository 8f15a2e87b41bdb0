import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/** Apache htpasswd's flags per format: -B bcrypt, -s {SHA}, -m $apr1$ (MD5). */
export type HtpasswdFormat = 'B' | 's' | 'm';

/**
 * Adds (or replaces) a user in an `.htpasswd` file with Apache's own
 * `htpasswd`; bcrypt with cost 10 unless told, as the app writes it (htpasswd's default is 5).
 */
export function addUser(file: string, user: string, password: string, format: HtpasswdFormat = 'B', bcryptCost = 10): void {
  const create = existsSync(file) ? [] : ['-c'];
  const cost = format === 'B' ? ['-C', String(bcryptCost)] : [];
  execFileSync('htpasswd', [...create, `-b${format}`, ...cost, file, user, password], { stdio: 'ignore' });
}

/** A fresh `.htpasswd` in its own folder, with the given users. */
export function htpasswdFile(users: [string, string, HtpasswdFormat?][]): string {
  const file = join(tempDir('rts-users-'), '.htpasswd');
  for (const [user, password, format] of users) addUser(file, user, password, format);
  return file;
}

export const basic = (user: string, password: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
