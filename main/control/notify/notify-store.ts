import { join } from 'node:path';
import { z } from 'zod';
import { readCheckedFile, writeFileAtomically, WriteQueue } from '../core/files.js';
import { keyFileKeychain, type Keychain } from '../core/keychain.js';
import { channelId, channelSettings } from '../core/schemas.js';
import type { StoredChannel } from './senders.js';
import type { Problem } from './problems.js';

export const NOTIFY_FILE = 'notifications.json';
/** The key that locks the channels' secrets where there is no system keychain (headless mode). */
export const NOTIFY_KEY_FILE = 'notifications.key';

const storeSchema = z.strictObject({
  version: z.literal(1),
  channels: z.array(
    z.strictObject({
      id: channelId,
      settings: channelSettings,
      /** The secret sealed by a lock: which one, so that a file moved between the desktop app and headless mode says what is missing. */
      secret: z.strictObject({ lock: z.enum(['keychain', 'key-file']), sealed: z.base64().max(4096) }).nullable(),
    }),
  ),
  /** Problems the admin was told about: after a restart they are not told again, and their recovery still is. */
  announced: z.array(z.strictObject({ key: z.string().max(600), severity: z.enum(['warning', 'critical']), message: z.string().max(4000), computer: z.string().max(64).nullable() })),
  /** The local day the last digest went out. */
  digestDay: z.iso.date().nullable(),
});
type Stored = z.infer<typeof storeSchema>;
export type NotifyRecord = { channels: StoredChannel[]; announced: Problem[]; digestDay: string | null };

/**
 * The channels with their secrets (SMTP passwords, ntfy tokens, webhook and
 * ping addresses, which carry tokens), and what was announced: one file in
 * the config folder, 0600, apart from settings.json so that the settings
 * never hold a secret; each secret sealed by the system keychain (the
 * desktop app) or else by a key file, as the kept passwords are.
 */
export class NotifyStore {
  private readonly writes = new WriteQueue();
  private readonly keyFile: Keychain;

  constructor(
    private readonly configDir: string,
    private readonly keychain: Keychain | undefined,
  ) {
    this.keyFile = keyFileKeychain(configDir, NOTIFY_KEY_FILE);
  }

  get file(): string {
    return join(this.configDir, NOTIFY_FILE);
  }

  /** The record, and the problem in words when the file was damaged (it is moved aside, the channels are set up again). */
  async load(now: Date): Promise<{ record: NotifyRecord; problem?: string }> {
    const read = await readCheckedFile(this.file, storeSchema, now);
    if (read.state === 'read') return this.unseal(read.value);
    const record: NotifyRecord = { channels: [], announced: [], digestDay: null };
    if (read.state === 'missing') return { record };
    return { record, problem: `The notification settings were damaged (${read.what}). They were kept as ${read.aside}: add the channels again in Settings → Notifications.` };
  }

  /** One write at a time, in the order asked, each secret sealed afresh; once closed, nothing more is written. */
  save(record: NotifyRecord): Promise<void> {
    return this.writes.add(async () => {
      const lock = this.keychain?.isAvailable() ? this.keychain : this.keyFile;
      const channels = await Promise.all(
        record.channels.map(async ({ id, settings, secret }) => ({ id, settings, secret: secret === null ? null : { lock: lock.kind, sealed: (await lock.encrypt(secret)).toString('base64') } })),
      );
      const stored: Stored = { version: 1, channels, announced: record.announced, digestDay: record.digestDay };
      await writeFileAtomically(this.file, `${JSON.stringify(stored, null, 2)}\n`, 0o600);
    });
  }

  /** Waits for the writes under way; later ones write nothing. */
  close(): Promise<void> {
    return this.writes.close();
  }

  /** The secrets opened; one whose lock is not here (or changed) is dropped, and said in words: the channel asks for it again. */
  private async unseal(stored: Stored): Promise<{ record: NotifyRecord; problem?: string }> {
    const lost: string[] = [];
    const channels = await Promise.all(
      stored.channels.map(async ({ id, settings, secret }): Promise<StoredChannel> => {
        if (secret === null) return { id, settings, secret: null };
        const lock = secret.lock === 'keychain' ? this.keychain : this.keyFile;
        try {
          if (!lock?.isAvailable()) throw new Error('no lock');
          return { id, settings, secret: await lock.decrypt(Buffer.from(secret.sealed, 'base64')) };
        } catch {
          lost.push(settings.kind === 'email' ? `the e-mail password for ${settings.to}` : settings.kind === 'ntfy' ? `the ntfy token for “${settings.topic}”` : `a ${settings.kind} address`);
          return { id, settings, secret: null };
        }
      }),
    );
    const record = { channels, announced: stored.announced, digestDay: stored.digestDay };
    if (lost.length === 0) return { record };
    return { record, problem: `Some notification secrets cannot be unlocked here (${lost.join(', ')}): the lock they were kept with is not here, or changed. Give them again in Settings → Notifications.` };
  }
}
