import { join } from 'node:path';
import { z } from 'zod';
import { USERNAME } from '../../../server/htpasswd.js';
import { readCheckedFile, writeFileAtomically } from '../core/files.js';
import type { Keychain } from '../core/keychain.js';

export const STORE_FILE = 'kept-passwords.json';

const storeSchema = z.strictObject({
  version: z.literal(1),
  computers: z.record(
    z.string().regex(USERNAME),
    z.strictObject({
      /** Which lock sealed it: a store moved between the desktop app and headless mode says which one is missing. */
      lock: z.enum(['keychain', 'key-file']),
      sealed: z.base64(),
      keptAt: z.iso.datetime(),
    }),
  ),
});
type Store = z.infer<typeof storeSchema>;

/**
 * The computers' encryption passwords the family chose to keep on the
 * desktop: one 0600 file in the config folder, written atomically, each
 * password sealed by the keychain (or the key file where there is none).
 * Nothing here is ever written in clear.
 */
export class KeptPasswords {
  private store: Store = { version: 1, computers: {} };

  constructor(
    private readonly configDir: string,
    private readonly locks: { keychain: Keychain | undefined; keyFile: Keychain },
  ) {}

  get file(): string {
    return join(this.configDir, STORE_FILE);
  }

  /** The lock new passwords are sealed with: the system keychain when it works, else the key file. */
  get lock(): Keychain {
    const { keychain, keyFile } = this.locks;
    return keychain?.isAvailable() ? keychain : keyFile;
  }

  /** Reads the store; a damaged one is moved aside (never deleted) and the problem returned in words. */
  async load(now = new Date()): Promise<string | undefined> {
    const read = await readCheckedFile(this.file, storeSchema, now);
    if (read.state === 'read') this.store = read.value;
    if (read.state !== 'damaged') return undefined;
    return `The file of kept encryption passwords was damaged. It was kept as ${read.aside}; keep each computer's password again on its page.`;
  }

  has(username: string): boolean {
    return Object.hasOwn(this.store.computers, username);
  }

  usernames(): string[] {
    return Object.keys(this.store.computers).sort();
  }

  async keep(username: string, password: string, now = new Date()): Promise<void> {
    const lock = this.lock;
    const sealed = (await lock.encrypt(password)).toString('base64');
    await this.write({ ...this.store, computers: { ...this.store.computers, [username]: { lock: lock.kind, sealed, keptAt: now.toISOString() } } });
  }

  /** The password in clear, for restic or for "Show the password"; an error in words when its lock is not here. */
  async reveal(username: string): Promise<string> {
    const entry = this.store.computers[username];
    if (!entry) throw new Error('No password is kept for this computer.');
    const lock = entry.lock === 'keychain' ? this.locks.keychain : this.locks.keyFile;
    if (!lock?.isAvailable()) throw new Error('The password was kept in the desktop app’s keychain, which this mode cannot open: open the desktop app, or keep the password again here.');
    try {
      return await lock.decrypt(Buffer.from(entry.sealed, 'base64'));
    } catch {
      throw new Error(`The kept password cannot be unlocked: ${lock.kind === 'keychain' ? 'the keychain' : 'the key file in the app’s folder'} changed since it was kept. Keep the password again.`);
    }
  }

  async forget(username: string): Promise<void> {
    if (!this.has(username)) return;
    const computers = { ...this.store.computers };
    delete computers[username];
    await this.write({ ...this.store, computers });
  }

  private async write(next: Store): Promise<void> {
    await writeFileAtomically(this.file, `${JSON.stringify(next, null, 2)}\n`, 0o600);
    this.store = next;
  }
}
