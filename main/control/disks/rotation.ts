import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Reason } from '../../contract.js';
import type { RequestEvent } from '../../../server/events.js';
import { isObjectId } from '../../../server/repo-path.js';
import type { Shared } from '../core/shared.js';
import type { DiskRecord } from '../core/settings.js';
import type { DiskChoice } from '../core/supervisor.js';
import { IDENTITIES_FILE, RepoIdentities } from './repo-identities.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** How many snapshots of a repository a disk holds, and when the newest was written (no password needed). */
async function snapshotsOn(folder: string): Promise<{ snapshots: number; lastBackupAt: string | null }> {
  let snapshots = 0;
  let newest = 0;
  const entries = await readdir(join(folder, 'snapshots'), { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || !isObjectId(entry.name)) continue;
    snapshots++;
    const info = await lstat(join(folder, 'snapshots', entry.name)).catch(() => undefined);
    if (info) newest = Math.max(newest, info.mtimeMs);
  }
  return { snapshots, lastBackupAt: newest > 0 ? new Date(newest).toISOString() : null };
}

/**
 * Disks that take turns: each computer's repository on every disk (laid
 * out from the copy of its config and keys before the disk serves), what
 * the app knows of each disk's backups while it is away, when each disk
 * was last in use (the reminder to swap), and the computers whose backups
 * cannot reach the disk in use.
 */
export class Rotation {
  private readonly identities: RepoIdentities;
  /** Per computer: why its backups cannot reach which disk. */
  private readonly unreachable = new Map<string, { diskId: string; message: string }>();
  private inUseSavedAt = 0;
  /** The disk being served at the last look. */
  private servedDiskId: string | undefined;

  constructor(private readonly shared: Shared) {
    this.identities = new RepoIdentities(join(shared.options.configDir, IDENTITIES_FILE), (message) => shared.addNotice(message));
    shared.supervisor.on('requests', (events) => {
      this.onRequests(events).catch((error: Error) => shared.emit('note', `Cannot keep the copy of the repositories’ keys: ${error.message}`, 'warning'));
    });
    shared.supervisor.on('change', () => this.markInUse(true));
    shared.on('tick', () => this.markInUse(false));
  }

  private now(): Date {
    return new Date(this.shared.options.now?.() ?? Date.now());
  }

  private record(diskId: string | undefined): DiskRecord | undefined {
    return this.shared.settings.disks.find((disk) => disk.id === diskId);
  }

  private name(username: string): string {
    return this.shared.computer(username)?.displayName ?? username;
  }

  /**
   * Before a disk serves: its repositories are copied (those made before the
   * copies were kept), the ones it lacks are laid out from the copies, and
   * its backups are counted. Nothing here stops the disk from serving.
   */
  async prepareDisk(disk: DiskChoice): Promise<void> {
    const repos = this.shared.settings.computers.map((computer) => computer.username);
    const now = this.now();
    for (const repo of repos) {
      await this.identities.remember(disk.folder, repo, now, true).catch((error: Error) => this.shared.emit('note', `Cannot copy the keys of /${repo}/: ${error.message}`, 'warning'));
    }
    const outcome = await this.identities.layOut(disk.folder, repos);
    for (const repo of outcome.laidOut) {
      this.shared.emit('note', `${this.name(repo)}’s backups were set up on “${disk.label}”: its next backup goes there, with the same password.`, 'info');
    }
    for (const repo of [...outcome.laidOut, ...outcome.keysAdded]) this.unreachable.delete(repo);
    for (const { repo, message } of outcome.failed) {
      this.setUnreachable(repo, disk.id, `${this.name(repo)} cannot back up to “${disk.label}”: its backups could not be set up there (${message}).`);
    }
    const record = this.record(disk.id);
    if (record) {
      for (const repo of repos) record.backups[repo] = await snapshotsOn(join(disk.folder, repo));
      this.shared.saveInBackground();
    }
  }

  /**
   * Marks the disk served as in use until now, and one that just stopped
   * serving as well (it was in use until this moment); saved at once on a
   * change of disk, otherwise once an hour.
   */
  private markInUse(changed: boolean): void {
    const { supervisor } = this.shared;
    const now = this.now();
    const serving = supervisor.phase === 'serving' ? supervisor.disk?.id : undefined;
    const marked = [this.servedDiskId, serving].map((id) => this.record(id)).filter((record) => record !== undefined);
    for (const record of marked) record.lastInUseAt = now.toISOString();
    const switched = serving !== this.servedDiskId;
    this.servedDiskId = serving;
    if (marked.length > 0 && ((changed && switched) || now.getTime() - this.inUseSavedAt >= HOUR_MS)) {
      this.inUseSavedAt = now.getTime();
      this.shared.saveInBackground();
    }
  }

  private setUnreachable(username: string, diskId: string, message: string): void {
    const known = this.unreachable.get(username);
    if (known?.diskId === diskId && known.message === message) return;
    this.unreachable.set(username, { diskId, message });
    this.shared.emit('note', message, 'error');
    this.shared.changed();
  }

  /** Whether the app knows this computer's backups exist somewhere: then a missing repository is a failure, not a set-up. */
  private async expected(username: string): Promise<boolean> {
    return (await this.identities.has(username)) || this.shared.settings.disks.some((disk) => (disk.backups[username]?.snapshots ?? 0) > 0);
  }

  private missingMessage(username: string, disk: DiskRecord, copied: boolean): string {
    const others = this.shared.settings.disks.filter((other) => other.id !== disk.id && (other.backups[username]?.snapshots ?? 0) > 0);
    const head = `${this.name(username)} cannot back up to “${disk.label}”: its backups are not on this disk`;
    if (copied) return `${head}. Stop and start the server: the app then sets them up here from the copy it keeps.`;
    if (others.length > 0) return `${head}, and the app has no copy of their keys yet. Plug in “${others[0]?.label}” once: the app then sets them up on every disk.`;
    return `${head}. Connect it again from its page to start its backups here.`;
  }

  private async onRequests(events: RequestEvent[]): Promise<void> {
    const disk = this.shared.supervisor.disk;
    const record = this.record(disk?.id);
    if (!disk || !record) return;
    const now = this.now();
    const computers = new Set(this.shared.settings.computers.map((computer) => computer.username));
    const snapshotsChanged = new Set<string>();
    for (const event of events) {
      const repo = event.repo;
      if (event.user === null || repo === null || !computers.has(repo)) continue;
      const writes = event.method === 'POST' || event.method === 'DELETE';
      const missing = event.type === 'config' && event.status === 404 && (event.method === 'HEAD' || event.method === 'GET');
      if (missing && this.unreachable.get(repo)?.diskId !== disk.id && (await this.expected(repo))) {
        // A repository that could not be laid out keeps the reason it could not.
        this.setUnreachable(repo, disk.id, this.missingMessage(repo, record, await this.identities.has(repo)));
      } else if (event.type === 'config' && event.status === 200 && this.unreachable.get(repo)?.diskId === disk.id) {
        this.unreachable.delete(repo);
        this.shared.changed();
      }
      if (event.status !== 200 || !writes) continue;
      if (event.type === 'keys' && event.method === 'DELETE' && event.id !== null) await this.identities.forgetKey(repo, event.id);
      else if (event.type === 'config' || event.type === 'keys') await this.identities.remember(disk.folder, repo, now);
      if (event.type === 'snapshots') snapshotsChanged.add(repo);
    }
    for (const repo of snapshotsChanged) record.backups[repo] = await snapshotsOn(join(disk.folder, repo));
    if (snapshotsChanged.size > 0) this.shared.saveInBackground();
  }

  /** A disk away (not in use) for longer than the reminder's days, and computers whose backups cannot reach the disk in use. */
  reasons(): Reason[] {
    const { settings } = this.shared;
    const reasons: Reason[] = [];
    for (const [username, problem] of this.unreachable) {
      if (problem.diskId === settings.currentDiskId && this.shared.computer(username)) reasons.push({ key: `unreachable:${username}`, severity: 'warning', message: problem.message });
    }
    if (settings.disks.length < 2) return reasons;
    const now = this.now().getTime();
    for (const disk of settings.disks) {
      if (disk.id === settings.currentDiskId) continue;
      const days = Math.floor((now - Date.parse(disk.lastInUseAt ?? disk.adoptedAt)) / DAY_MS);
      if (days > settings.swapReminderDays) {
        reasons.push({ key: `swap-disks:${disk.id}`, severity: 'warning', message: `Swap the backup disks: the ${disk.label} has not been updated for ${days} days.` });
      }
    }
    return reasons;
  }
}
