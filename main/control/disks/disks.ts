import { stat, statfs } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import type { AppState, ComputerOverview, DiskView, Drive, FolderListing, Reason, StorageView } from '../../contract.js';
import { DiskGuard, readDiskId } from '../../../server/disk-guard.js';
import type { RequestEvent } from '../../../server/events.js';
import { createSyncer } from '../../../server/fsync.js';
import { fileSystemOf, listDrives } from './drives.js';
import { UserError } from '../core/errors.js';
import { driveWarnings, isMemoryFileSystem, isNetworkFileSystem } from './file-systems.js';
import { browseFolder, createFolder, type FolderContents } from './folders.js';
import { USAGE_DAYS } from '../core/settings.js';
import type { Shared } from '../core/shared.js';
import type { DiskChoice } from '../core/supervisor.js';
import { Rotation } from './rotation.js';
import { describeTrend, recordFreed, recordUsage } from './usage-trend.js';

const DRIVES_MAX_AGE_MS = 30_000;
/** Free space that must come back after a 507 before the disk stops counting as full: 64 MiB, or 1% of a small disk. */
const spaceRegained = (totalBytes: number): number => Math.min(64 * 1024 * 1024, totalBytes * 0.01);

const isInside = (parent: string, child: string): boolean => {
  const path = relative(parent, child);
  return path === '' || (!path.startsWith('..') && !isAbsolute(path));
};

/**
 * Where the backups live: choosing a folder (drives, the folder browser),
 * the disks adopted for rotation, safe eject, and the storage figures with
 * their growth trend.
 */
export class Disks {
  /** Set by a 507; the free space is noted at the next look, and the disk counts as full until more is free. */
  private refused: { freeBytes: number | null } | undefined;
  private drives: { at: number; list: Promise<Drive[]> } | undefined;
  private usageSavedDay: string | undefined;
  private readonly rotation: Rotation;

  constructor(private readonly shared: Shared) {
    this.rotation = new Rotation(shared);
    shared.supervisor.on('change', () => this.followRotation());
    shared.supervisor.on('requests', (events) => this.onRequests(events));
  }

  private get settings() {
    return this.shared.settings;
  }

  /** Whether uploads were refused for lack of space, and not enough has been freed since. */
  get full(): boolean {
    return this.refused !== undefined;
  }

  listDrives(): Promise<Drive[]> {
    return listDrives();
  }

  async browseFolder(input: { path?: string }): Promise<FolderListing> {
    return this.withDrive(await browseFolder(input.path));
  }

  async createFolder(input: { parent: string; name: string }): Promise<FolderListing> {
    return this.withDrive(await createFolder(input.parent, input.name));
  }

  async pickFolder(): Promise<string | null> {
    return this.shared.options.askFolder ? this.shared.options.askFolder() : null;
  }

  chooseFolder(input: { path: string; label?: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const folder = resolve(input.path);
      this.checkDataFolder(folder);
      let diskId: string;
      try {
        diskId = (await DiskGuard.open(folder, createSyncer(() => undefined))).diskId;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
          throw new UserError('folder-not-writable', `This app may not write in ${folder}. Choose a folder you own, or a disk that is not read-only.`);
        }
        throw new UserError('folder-unusable', (error as Error).message.replace(/^./, (c) => c.toUpperCase()));
      }
      const label = input.label ?? (await this.driveLabel(folder)) ?? basename(folder);
      const known = this.settings.disks.find((disk) => disk.id === diskId);
      if (known) {
        known.folder = folder;
        if (input.label) known.label = input.label;
      } else {
        const now = new Date(this.shared.options.now?.() ?? Date.now()).toISOString();
        this.settings.disks.push({ id: diskId, label, folder, adoptedAt: now, lastBackupAt: null, usage: [], integrity: null, lastInUseAt: now, backups: {} });
      }
      this.settings.currentDiskId = diskId;
      await this.shared.save();
      await this.shared.reconfigure();
      return this.shared.state();
    });
  }

  forgetDisk(input: { diskId: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      if (!this.settings.disks.some((disk) => disk.id === input.diskId)) throw new UserError('unknown-disk', 'This disk is not known (any more).');
      if (input.diskId === this.settings.currentDiskId) {
        throw new UserError('disk-in-use', 'This is the disk in use. Choose another folder first, then forget this one.');
      }
      this.settings.disks = this.settings.disks.filter((disk) => disk.id !== input.diskId);
      await this.shared.save();
      await this.shared.reconfigure();
      return this.shared.state();
    });
  }

  renameDisk(input: { diskId: string; label: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const disk = this.settings.disks.find((candidate) => candidate.id === input.diskId);
      if (!disk) throw new UserError('unknown-disk', 'This disk is not known (any more).');
      disk.label = input.label;
      await this.shared.save();
      // The server names the disk it waits for by this label.
      await this.shared.reconfigure();
      return this.shared.state();
    });
  }

  /** Readies a disk before it serves: the computers' repositories it lacks are laid out (see rotation.ts). */
  prepareDisk(disk: DiskChoice): Promise<void> {
    return this.rotation.prepareDisk(disk);
  }

  /** What needs attention about the disks taking turns: one away too long, a computer whose backups cannot reach the disk in use. */
  reasons(): Reason[] {
    return this.rotation.reasons();
  }

  /** Each known disk with this computer's snapshots on it, as the app last saw them. */
  backupsOf(username: string): ComputerOverview['disks'] {
    return this.settings.disks.map((disk) => ({
      diskId: disk.id,
      label: disk.label,
      current: disk.id === this.settings.currentDiskId,
      snapshots: disk.backups[username]?.snapshots ?? 0,
      lastBackupAt: disk.backups[username]?.lastBackupAt ?? null,
    }));
  }

  ejectDisk(): Promise<{ safe: boolean; message: string }> {
    return this.shared.mutate(async () => {
      const label = this.shared.currentDisk()?.label ?? 'the backup disk';
      this.settings.serving = false;
      await this.shared.save();
      await this.shared.supervisor.stop();
      return { safe: true, message: `It is now safe to unplug “${label}”: the server stopped after the last upload. Press Start when the disk is back.` };
    });
  }

  /** Space the desktop's retention freed on a disk: kept with today's measurement, so the forecast tells growth from what retention removes. */
  async spaceFreed(diskId: string, freedBytes: number): Promise<void> {
    const record = this.settings.disks.find((disk) => disk.id === diskId);
    if (!record) return;
    const space = await statfs(record.folder).catch(() => undefined);
    const usedBytes = space ? (space.blocks - space.bavail) * space.bsize : (record.usage.at(-1)?.usedBytes ?? 0);
    record.usage = recordFreed(record.usage, freedBytes, usedBytes, new Date(this.shared.options.now?.() ?? Date.now()), USAGE_DAYS);
    this.shared.saveInBackground();
    this.shared.changed();
  }

  /** Every adopted disk: whether it is plugged in, whether it is the one in use. */
  views(): Promise<DiskView[]> {
    return Promise.all(
      this.settings.disks.map(async (disk) => ({
        id: disk.id,
        label: disk.label,
        folder: disk.folder,
        present: (await readDiskId(disk.folder)) === disk.id,
        current: disk.id === this.settings.currentDiskId,
        lastBackupAt: disk.lastBackupAt,
        lastInUseAt: disk.lastInUseAt,
      })),
    );
  }

  /** Space, file system, warnings and growth of a disk that is there; a measurement a day is kept for the trend. */
  async storageView(disk: DiskView): Promise<StorageView | null> {
    const space = await statfs(disk.folder).catch(() => undefined);
    if (!space) return null;
    const place = await this.placeOf(disk.folder);
    const freeBytes = space.bavail * space.bsize;
    const totalBytes = space.blocks * space.bsize;
    if (this.refused) {
      if (this.refused.freeBytes === null) this.refused.freeBytes = freeBytes;
      else if (freeBytes > this.refused.freeBytes + spaceRegained(totalBytes)) this.refused = undefined;
    }
    const record = this.settings.disks.find((candidate) => candidate.id === disk.id);
    const now = new Date(this.shared.options.now?.() ?? Date.now());
    if (record) {
      record.usage = recordUsage(record.usage, totalBytes - freeBytes, now, USAGE_DAYS);
      // One write a day; later measurements of the same day ride along with the next save.
      const day = record.usage.at(-1)?.day;
      if (day !== this.usageSavedDay) {
        this.usageSavedDay = day;
        this.shared.saveInBackground();
      }
    }
    return {
      folder: disk.folder,
      diskId: disk.id,
      label: disk.label,
      trend: record ? describeTrend(record.usage, freeBytes, now) : null,
      usage: record ? record.usage.map((sample) => ({ ...sample })) : [],
      totalBytes,
      freeBytes,
      fileSystem: place.fileSystem,
      warnings: place.warnings,
      inMemory: place.inMemory,
    };
  }

  private async withDrive(contents: FolderContents): Promise<FolderListing> {
    return { ...contents, ...(await this.placeOf(contents.path)) };
  }

  /** The drive a folder is on, or else at least its file system, and what to know before keeping backups there. */
  private async placeOf(folder: string): Promise<{ drive: Drive | null; fileSystem: string | null; warnings: string[]; inMemory: boolean }> {
    const drive = await this.driveOf(folder);
    if (drive) return { drive, fileSystem: drive.fileSystem, warnings: drive.warnings, inMemory: isMemoryFileSystem(drive.fileSystem) };
    const fileSystem = await fileSystemOf(folder);
    if (!fileSystem) return { drive: null, fileSystem, warnings: [], inMemory: false };
    return { drive: null, fileSystem, warnings: driveWarnings({ fileSystem, network: isNetworkFileSystem(fileSystem), system: false }), inMemory: isMemoryFileSystem(fileSystem) };
  }

  private checkDataFolder(folder: string): void {
    const config = resolve(this.shared.options.configDir);
    if (folder === resolve('/')) throw new UserError('folder-is-root', 'Choose a folder on the disk, not the whole system disk.');
    if (isInside(config, folder) || isInside(folder, config)) {
      throw new UserError('folder-is-config', 'This folder holds (or is inside) the app’s own settings. Choose another folder for the backups.');
    }
  }

  private async driveLabel(folder: string): Promise<string | undefined> {
    const drive = await this.driveOf(folder);
    return drive && drive.mountPoint !== '/' ? drive.label : undefined;
  }

  /** The drive a folder lives on: the longest mount point that contains it, if the folder is on that same device. */
  private async driveOf(folder: string): Promise<Drive | undefined> {
    // Mounts change rarely; the state is composed often (and lsblk takes a moment).
    if (!this.drives || Date.now() - this.drives.at > DRIVES_MAX_AGE_MS) this.drives = { at: Date.now(), list: listDrives().catch(() => []) };
    const drive = (await this.drives.list).filter((candidate) => isInside(candidate.mountPoint, folder)).sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    if (!drive) return undefined;
    // A folder on a file system the list leaves out (a tmpfs, a bind mount) is not on the drive above it.
    const [own, mount] = await Promise.all([stat(folder).catch(() => undefined), stat(drive.mountPoint).catch(() => undefined)]);
    return own && mount && own.dev === mount.dev ? drive : undefined;
  }

  /** A rotating disk was switched to: it is the current disk from now on. */
  private followRotation(): void {
    const { supervisor } = this.shared;
    const served = supervisor.disk;
    if (supervisor.phase === 'serving' && served && served.id !== this.settings.currentDiskId) {
      this.settings.currentDiskId = served.id;
      this.shared.saveInBackground();
    }
    this.shared.changed();
  }

  /** A 507 marks the disk full; a snapshot saved is the disk's last backup. */
  private onRequests(events: RequestEvent[]): void {
    if (events.some((event) => event.status === 507)) this.refused = { freeBytes: null };
    if (!events.some((event) => event.user !== null && event.method === 'POST' && event.type === 'snapshots' && event.status === 200)) return;
    const disk = this.settings.disks.find((candidate) => candidate.id === this.shared.supervisor.disk?.id);
    if (disk) {
      disk.lastBackupAt = new Date().toISOString();
      this.shared.saveInBackground();
    }
    this.shared.changed();
  }
}
