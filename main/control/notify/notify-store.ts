import { join } from 'node:path';
import { z } from 'zod';
import { readCheckedFile, writeFileAtomically } from '../core/files.js';
import { channelId, channelSettings } from '../core/schemas.js';
import type { StoredChannel } from './senders.js';
import type { Problem } from './problems.js';

export const NOTIFY_FILE = 'notifications.json';

const storeSchema = z.strictObject({
  version: z.literal(1),
  channels: z.array(z.strictObject({ id: channelId, settings: channelSettings, secret: z.string().max(2048).nullable() })),
  /** Problems the admin was told about: after a restart they are not told again, and their recovery still is. */
  announced: z.array(z.strictObject({ key: z.string().max(600), severity: z.enum(['warning', 'critical']), message: z.string().max(4000), computer: z.string().max(64).nullable() })),
  /** The local day the last digest went out. */
  digestDay: z.iso.date().nullable(),
});
export type NotifyRecord = { channels: StoredChannel[]; announced: Problem[]; digestDay: string | null };

/**
 * The channels with their secrets (SMTP passwords, ntfy tokens, webhook and
 * ping addresses, which carry tokens), and what was announced: one file in
 * the config folder, 0600, apart from settings.json so that the settings
 * never hold a secret.
 */
export class NotifyStore {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly configDir: string) {}

  get file(): string {
    return join(this.configDir, NOTIFY_FILE);
  }

  /** The record, and the problem in words when the file was damaged (it is moved aside, the channels are set up again). */
  async load(now: Date): Promise<{ record: NotifyRecord; problem?: string }> {
    const read = await readCheckedFile(this.file, storeSchema, now);
    if (read.state === 'read') return { record: read.value };
    const record: NotifyRecord = { channels: [], announced: [], digestDay: null };
    if (read.state === 'missing') return { record };
    return { record, problem: `The notification settings were damaged (${read.what}). They were kept as ${read.aside}: add the channels again in Settings → Notifications.` };
  }

  /** One write at a time, in the order asked. */
  save(record: NotifyRecord): Promise<void> {
    const content = `${JSON.stringify({ version: 1, ...record }, null, 2)}\n`;
    const next = this.writing.then(() => writeFileAtomically(this.file, content, 0o600));
    this.writing = next.catch(() => undefined);
    return next;
  }
}
