import { join } from 'node:path';
import type { ComputerOverview, DiskView, LogEntry, Summary } from '../../contract.js';
import type { RequestEvent } from '../../../server/events.js';
import { lastDays, localDay, recordBackupDay } from './backup-days.js';
import { readRepoStats, type RepoStats } from './repo-stats.js';
import { RequestLog } from './request-log.js';
import type { Shared } from '../core/shared.js';
import { isStale } from '../core/status.js';
import { setUpBy } from '../core/settings.js';

/** Repository figures are trusted this long, or until a client writes to that repository. */
const STATS_MAX_AGE_MS = 60_000;
const STATS_DIRTY_AGE_MS = 5_000;

const now = (): string => new Date().toISOString();

/**
 * What the computers do: the request log and its summaries for the live log,
 * and each repository's figures (size, snapshots, last backup) for the
 * dashboard, read from the disk and re-read after writes.
 */
export class Activity {
  private readonly log: RequestLog;
  /** Per disk and repository: figures read from one disk never stand for another. */
  private readonly stats = new Map<string, { stats: RepoStats; at: number; dirty: boolean }>();
  /** Each login's last request, on the app's clock. */
  private readonly lastRequest = new Map<string, number>();

  constructor(private readonly shared: Shared) {
    this.log = new RequestLog((user) => shared.computer(user)?.displayName ?? null);
    this.log.subscribe({
      requests: (entries) => shared.emitEvent('requests', entries),
      summary: (summary) => shared.emitEvent('summary', summary),
    });
    shared.supervisor.on('requests', (events) => this.onRequests(events));
    shared.supervisor.on('change', () => this.expireServed());
    shared.supervisor.on('warning', (message) => this.log.note({ time: now(), user: null, message, severity: 'warning' }));
    shared.on('note', (message, severity) => this.log.note({ time: now(), user: null, message, severity }));
    shared.on('tick', () => this.log.expire());
  }

  /** The time, in milliseconds (tests move it on to play days passing). */
  private now(): number {
    return this.shared.options.now?.() ?? Date.now();
  }

  async recentRequests(input: { limit?: number }): Promise<LogEntry[]> {
    return this.log.recent(input.limit);
  }

  async recentSummaries(): Promise<Summary[]> {
    return this.log.recentSummaries();
  }

  /** When the computer last sent a request, and its newest snapshot on the disk in use (as last read): the caretaker waits for both. */
  activityOf(username: string): { lastRequestAt: number | null; lastBackupAt: number | null } {
    const diskId = this.shared.supervisor.disk?.id ?? this.shared.settings.currentDiskId;
    return { lastRequestAt: this.lastRequest.get(username) ?? null, lastBackupAt: this.stats.get(`${diskId}/${username}`)?.stats.lastBackupAt?.getTime() ?? null };
  }

  /** Each computer with its figures, read from `readable` (the disk in use, when it is really there). */
  computerOverviews(readable: DiskView | undefined, staleAt: Date): Promise<Omit<ComputerOverview, 'disks'>[]> {
    const settings = this.shared.settings;
    const diskId = readable?.id ?? settings.currentDiskId;
    return Promise.all(
      settings.computers.map(async (computer) => {
        // While the disk is away, the figures last read from it stand.
        const stats = readable ? await this.repoStats(readable, computer.username) : this.stats.get(`${diskId}/${computer.username}`)?.stats;
        const lastBackupAt = stats?.lastBackupAt ?? null;
        return {
          username: computer.username,
          displayName: computer.displayName,
          repoPath: `/${computer.username}/`,
          appendOnly: settings.appendOnly || computer.appendOnly,
          quotaBytes: computer.quotaBytes,
          createdAt: computer.createdAt,
          connectedAt: computer.connectedAt ?? null,
          setUpBy: setUpBy(computer),
          system: computer.system ?? null,
          resticVersion: computer.resticVersion ?? null,
          scheduled: computer.scheduled ?? null,
          sizeBytes: stats?.exists ? stats.sizeBytes : null,
          snapshots: stats?.snapshots ?? 0,
          lastBackupAt: lastBackupAt?.toISOString() ?? null,
          locks: stats?.locks ?? 0,
          stale: isStale({ createdAt: new Date(computer.createdAt), lastBackupAt }, settings.staleDays, staleAt),
          lastDays: lastDays(computer.backupDays ?? [], computer.createdAt, this.now()),
        };
      }),
    );
  }

  private async repoStats(disk: DiskView, username: string): Promise<RepoStats | undefined> {
    const key = `${disk.id}/${username}`;
    const cached = this.stats.get(key);
    const age = cached ? Date.now() - cached.at : Infinity;
    if (cached && age < (cached.dirty ? STATS_DIRTY_AGE_MS : STATS_MAX_AGE_MS)) return cached.stats;
    const stats = await readRepoStats(join(disk.folder, username)).catch(() => undefined);
    if (stats) this.stats.set(key, { stats, at: Date.now(), dirty: false });
    return stats;
  }

  /** A disk that starts serving may have just been readied (repositories laid out on it): its figures are read again. */
  private expireServed(): void {
    const { supervisor } = this.shared;
    if (supervisor.phase !== 'serving') return;
    for (const [key, cached] of this.stats) if (key.startsWith(`${supervisor.disk?.id}/`)) cached.at = 0;
  }

  /**
   * Writes make a repository's figures old sooner. A snapshot written or
   * deleted is a backup that finished or was forgotten: its figures are read
   * again at once and the state published, so the computer's page does not
   * say "never" for up to one tick after its first backup. A snapshot
   * written is also the day's backup of that computer, recorded for good.
   */
  private onRequests(events: RequestEvent[]): void {
    this.log.add(events);
    const diskId = this.shared.supervisor.disk?.id;
    let backupEnded = false;
    const at = this.shared.options.now?.() ?? Date.now();
    for (const event of events) {
      if (event.user !== null) this.lastRequest.set(event.user, at);
      if (event.user === null || event.repo === null || (event.method !== 'POST' && event.method !== 'DELETE')) continue;
      const repo = event.repo.split('/')[0] ?? '';
      const stats = this.stats.get(`${diskId}/${repo}`);
      const snapshot = event.type === 'snapshots' && event.status === 200;
      backupEnded ||= snapshot;
      if (snapshot && event.method === 'POST') this.recordBackupDay(repo);
      if (!stats) continue;
      stats.dirty = true;
      if (snapshot) stats.at = 0;
    }
    if (backupEnded) this.shared.changed();
  }

  /** Today as a backup day of the computer whose repository this is; saved once a day. */
  private recordBackupDay(username: string): void {
    const computer = this.shared.computer(username);
    const today = localDay(this.now());
    if (!computer || computer.backupDays?.includes(today)) return;
    computer.backupDays = recordBackupDay(computer.backupDays ?? [], today);
    this.shared.saveInBackground();
  }
}
