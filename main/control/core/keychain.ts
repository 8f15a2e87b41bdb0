import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './files.js';

/**
 * Where the kept encryption passwords are locked: in the desktop app the
 * system's keychain (Electron's safeStorage, filled in by main/electron/),
 * in headless mode and under plain Node a key file in the config folder.
 */
export interface Keychain {
  /** `keychain`: only this account on this computer can unlock it; `key-file`: whoever reads the config folder can. */
  readonly kind: 'keychain' | 'key-file';
  isAvailable(): boolean;
  encrypt(text: string): Promise<Buffer>;
  decrypt(sealed: Buffer): Promise<string>;
}

export const KEY_FILE = 'kept-passwords.key';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a random key kept in a 0600 file in the config folder
 * (one file per store that uses it, so that each creates its own key alone).
 * It protects the passwords where the config folder is not (a stolen backup
 * disk, the offsite copy, a copy of settings.json), not from someone who
 * can read this account's files.
 */
export function keyFileKeychain(configDir: string, fileName = KEY_FILE): Keychain {
  const file = join(configDir, fileName);
  let key: Promise<Buffer> | undefined;
  const loadKey = async (): Promise<Buffer> => {
    try {
      const existing = await readFile(file);
      if (existing.length !== KEY_BYTES) throw new Error(`The key file ${file} is damaged (${existing.length} bytes instead of ${KEY_BYTES}): what it locks cannot be read. Move it aside and give the passwords it locked again.`);
      // Tightened in case something loosened it: the key is as secret as the passwords.
      await chmod(file, 0o600);
      return existing;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const fresh = randomBytes(KEY_BYTES);
      await writeFileAtomically(file, fresh, 0o600);
      return fresh;
    }
  };
  const getKey = () => {
    key ??= loadKey().catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  };
  return {
    kind: 'key-file',
    isAvailable: () => true,
    async encrypt(text) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', await getKey(), iv);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    async decrypt(sealed) {
      const decipher = createDecipheriv('aes-256-gcm', await getKey(), sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
