import { join } from 'node:path';
import { z } from 'zod';
import { USERNAME } from '../../../server/htpasswd.js';
import { readCheckedFile, writeFileAtomically, WriteQueue } from './files.js';
import { bandwidth, digest, graceDays, integrityDays, listenAddresses, offsiteRemote, port, quietHours, retentionPolicy, staleDays } from './schemas.js';

const timestamp = z.iso.datetime();
/** Daily disk measurements kept for the growth trend. */
export const USAGE_DAYS = 90;
/** The days a computer's backups arrived, kept for the dashboard's strip of its last 30 days. */
export const BACKUP_DAYS = 30;

const diskSchema = z.strictObject({
  id: z.string().min(1).max(100),
  label: z.string().max(64),
  folder: z.string().min(1).max(4096),
  adoptedAt: timestamp,
  lastBackupAt: timestamp.nullable(),
  /** Used bytes, one measurement per day (the newest last), and what retention freed that day, for the growth trend. */
  usage: z
    .array(z.strictObject({ day: z.iso.date(), usedBytes: z.number().int().nonnegative(), freedBytes: z.number().int().nonnegative().optional() }))
    .max(USAGE_DAYS)
    .default([]),
  /** The last complete integrity check of this disk, remembered for while it is away. */
  integrity: z
    .strictObject({ checkedAt: timestamp, objects: z.number().int().nonnegative(), bytes: z.number().nonnegative(), damaged: z.number().int().nonnegative() })
    .nullable()
    .default(null),
  /** When the server last served this disk: a disk of a rotation away too long is a reminder to swap. */
  lastInUseAt: timestamp.nullable().default(null),
  /** Per computer, its snapshots on this disk and the newest one's time, as last seen: known while the disk is away. */
  backups: z.record(z.string().regex(USERNAME), z.strictObject({ snapshots: z.number().int().nonnegative(), lastBackupAt: timestamp.nullable() })).default({}),
});

const computerSchema = z.strictObject({
  username: z.string().regex(USERNAME),
  displayName: z.string().min(1).max(64),
  appendOnly: z.boolean(),
  quotaBytes: z.number().int().positive().nullable(),
  createdAt: timestamp,
  /** When it last fetched its set-up through a "Connect this computer" line. */
  connectedAt: timestamp.optional(),
  /** How its server login reached it last: in a set-up script (line or file), or shown to set it up by hand; before this was kept, a connection means the line. */
  setUpBy: z.enum(['line', 'hand']).optional(),
  /** What its set-up reported: its system, its restic and where it reaches the server (`host:port`). */
  system: z.enum(['linux', 'macos', 'windows']).optional(),
  resticVersion: z.string().regex(/^\d+\.\d+\.\d+$/).optional(),
  reachedAt: z.string().max(300).optional(),
  /** Whether its set-up found a scheduler (systemd timer, cron, launchd) for the daily backup. */
  scheduled: z.boolean().optional(),
  /** The days (this computer's calendar, oldest first) on which a backup of it arrived, the last `BACKUP_DAYS` of them. */
  backupDays: z.array(z.iso.date()).max(BACKUP_DAYS).optional(),
  /** Its retention policy, when not the default. */
  retention: retentionPolicy.optional(),
});

export const settingsSchema = z.strictObject({
  version: z.literal(1),
  setupComplete: z.boolean(),
  /** The disk being served, one of `disks`; null before a folder was chosen. */
  currentDiskId: z.string().nullable(),
  /** Every adopted disk, so that rotating disks are recognised by their marker. */
  disks: z.array(diskSchema),
  computers: z.array(computerSchema),
  maintenanceUser: z.string().regex(USERNAME).nullable(),
  /** Every computer is append-only while this is on. */
  appendOnly: z.boolean(),
  listenAddresses,
  port,
  tls: z.enum(['household', 'own', 'off']),
  staleDays,
  /** With disks that take turns: a disk not in use for longer than this is a reminder to swap. */
  swapReminderDays: staleDays.default(14),
  /** Settings written before integrity checks existed get the default. */
  integrityDays: integrityDays.default(30),
  /** The offsite copy's target (null: none), and the rclone program when it is not on PATH. */
  offsite: z
    .strictObject({
      remote: offsiteRemote,
      rcloneConfig: z.string().max(4096).nullable(),
      bandwidth: bandwidth.nullable(),
      /** Files deleted on the disk stay on the copy this long. */
      graceDays: graceDays.default(30),
      /** Copies that start by themselves: only from 22:00 to 06:00. */
      nightOnly: z.boolean().default(false),
      /** A copy older than this turns the tray yellow. */
      warnAfterDays: staleDays.default(7),
      lastCopyAt: timestamp.nullable(),
    })
    .nullable()
    .default(null),
  rclonePath: z.string().max(4096).nullable().default(null),
  /** The restic the desktop runs itself; null: the one on PATH. */
  resticPath: z.string().max(4096).nullable().default(null),
  autostart: z.boolean(),
  notifications: z.boolean(),
  keepAwake: z.boolean(),
  /** When problems wait before they are sent to the channels (the channels themselves are kept apart: they hold secrets). */
  quietHours: quietHours.nullable().default(null),
  digest: digest.default('off'),
  /** Whether the server was serving when the app last stopped, so it resumes. */
  serving: z.boolean(),
});

export type Settings = z.infer<typeof settingsSchema>;
export type DiskRecord = Settings['disks'][number];
export type ComputerRecord = Settings['computers'][number];

/** How a computer's server login reached it last (records from before this was kept: a connection means the line). */
export const setUpBy = (computer: ComputerRecord): 'line' | 'hand' => computer.setUpBy ?? (computer.connectedAt ? 'line' : 'hand');

export const DEFAULT_SETTINGS: Settings = {
  version: 1,
  setupComplete: false,
  currentDiskId: null,
  disks: [],
  computers: [],
  maintenanceUser: null,
  appendOnly: false,
  listenAddresses: 'auto',
  port: 8000,
  tls: 'household',
  staleDays: 3,
  swapReminderDays: 14,
  integrityDays: 30,
  offsite: null,
  rclonePath: null,
  resticPath: null,
  autostart: false,
  notifications: true,
  keepAwake: true,
  quietHours: null,
  digest: 'off',
  serving: false,
};

export const SETTINGS_FILE = 'settings.json';

export interface LoadedSettings {
  settings: Settings;
  /** Set when the file was damaged: what was wrong and where the damaged file was kept. */
  problem?: string;
}

/**
 * The app's settings: one JSON file in the config folder, checked against the
 * schema on load and replaced atomically on save. It holds no password: the
 * logins are bcrypt hashes in the password file.
 */
export class SettingsStore {
  private readonly writes = new WriteQueue();

  constructor(readonly configDir: string) {}

  get file(): string {
    return join(this.configDir, SETTINGS_FILE);
  }

  /** Reads the file; a damaged one is moved aside (never deleted) and the defaults are used. */
  async load(now = new Date()): Promise<LoadedSettings> {
    const read = await readCheckedFile(this.file, settingsSchema, now);
    if (read.state === 'read') return { settings: read.value };
    const settings = structuredClone(DEFAULT_SETTINGS);
    if (read.state === 'missing') return { settings };
    return {
      settings,
      problem: `The settings file was damaged (${read.what}). It was kept as ${read.aside} and the defaults are used: choose the backup folder again; your backups and computer logins are untouched.`,
    };
  }

  /** Saves one settings object at a time, in the order asked; the content is taken at the call, so later changes wait for their own save. Once closed, nothing more is written. */
  save(settings: Settings): Promise<void> {
    let content: string;
    try {
      content = `${JSON.stringify(settingsSchema.parse(settings), null, 2)}\n`;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writes.add(() => writeFileAtomically(this.file, content));
  }

  /** Waits for the saves under way; later ones write nothing. */
  close(): Promise<void> {
    return this.writes.close();
  }
}
