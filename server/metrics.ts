import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { readCareRecord, type CareRecord } from './care-record.js';
import type { RequestEvent } from './events.js';
import { isObjectId, isObjectType } from './repo-path.js';
import { findRepositories, readScrubState, type ScrubState } from './scrub/scrub.js';

const LABELS = ['user', 'repo', 'type'] as const;

type Operation = 'read' | 'write' | 'delete';

const HELP: Record<Operation, [string, string]> = {
  write: ['Total number of blobs written', 'Total number of bytes written to blobs'],
  read: ['Total number of blobs read', 'Total number of bytes read from blobs'],
  delete: ['Total number of blobs deleted', 'Total number of bytes of blobs deleted'],
};

interface RepoStats {
  bytes: number;
  lastSnapshotMs: number;
}

/** A scrape reads the scrub's and the care record once, not once per gauge. */
const SCRUB_READ_MS = 1000;

/**
 * rest-server's Prometheus counters, with the same names and labels so its
 * Grafana dashboard works, plus gauges for each repository's size and last
 * snapshot time, the integrity check's record (`scrub.ts`, kept in the
 * data folder by the app or by `restic-tray-server scrub`) and what the
 * desktop app's own restic runs did (`care-record.ts`). A private
 * registry: nothing global, nothing shared.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters: Record<Operation, { count: Counter<string>; bytes: Counter<string> }>;
  private readonly repos = new Map<string, RepoStats>();

  private scrubRead: { at: number; state: Promise<ScrubState> } | undefined;
  private careRead: { at: number; record: Promise<CareRecord> } | undefined;

  private constructor(private readonly root: string) {
    const pair = (operation: Operation) => ({
      count: new Counter({ name: `rest_server_blob_${operation}_total`, help: HELP[operation][0], labelNames: LABELS, registers: [this.registry] }),
      bytes: new Counter({ name: `rest_server_blob_${operation}_bytes_total`, help: HELP[operation][1], labelNames: LABELS, registers: [this.registry] }),
    });
    this.counters = { read: pair('read'), write: pair('write'), delete: pair('delete') };
    const repos = this.repos;
    new Gauge({
      name: 'rest_server_repo_size_bytes',
      help: 'Bytes of the files of a repository',
      labelNames: ['repo'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [repo, stats] of repos) this.set({ repo }, stats.bytes);
      },
    });
    new Gauge({
      name: 'rest_server_repo_last_snapshot_timestamp_seconds',
      help: 'Time of the newest snapshot file of a repository, in seconds since the epoch',
      labelNames: ['repo'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [repo, stats] of repos) if (stats.lastSnapshotMs > 0) this.set({ repo }, Math.floor(stats.lastSnapshotMs / 1000));
      },
    });
    const scrub = () => this.scrubState();
    new Gauge({
      name: 'rest_server_scrub_last_complete_timestamp_seconds',
      help: 'When the last complete integrity check of every object ended, in seconds since the epoch (0: never)',
      registers: [this.registry],
      async collect() {
        const last = (await scrub()).last;
        this.set(last ? Math.floor(Date.parse(last.finishedAt) / 1000) : 0);
      },
    });
    new Gauge({
      name: 'rest_server_scrub_objects_verified',
      help: 'Objects read and compared with their names in the last complete integrity check',
      registers: [this.registry],
      async collect() {
        this.set((await scrub()).last?.objects ?? 0);
      },
    });
    new Gauge({
      name: 'rest_server_scrub_damaged_objects',
      help: 'Damaged or misplaced files found by integrity checks and not yet repaired, per repository',
      labelNames: ['repo'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const finding of (await scrub()).open) counts.set(finding.repo, (counts.get(finding.repo) ?? 0) + 1);
        for (const [repo, count] of counts) this.set({ repo }, count);
      },
    });
    const care = () => this.careRecord();
    const perRepo = (name: string, help: string, value: (care: CareRecord['repos'][string]) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['repo'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const [repo, record] of Object.entries((await care()).repos)) {
            const figure = value(record);
            if (figure !== undefined) this.set({ repo }, figure);
          }
        },
      });
    const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    perRepo('rest_server_retention_last_run_timestamp_seconds', 'When the desktop last ran the retention policy (forget and prune) on a repository, in seconds since the epoch', (r) => (r.retention ? seconds(r.retention.at) : undefined));
    perRepo('rest_server_retention_last_run_ok', 'Whether that retention run worked (1) or failed (0)', (r) => (r.retention ? Number(r.retention.ok) : undefined));
    perRepo('rest_server_retention_snapshots_removed', 'Snapshots removed by the last retention run', (r) => r.retention?.removed);
    perRepo('rest_server_retention_freed_bytes', 'Bytes freed on the disk by the last retention run', (r) => r.retention?.freedBytes);
    perRepo('rest_server_check_last_timestamp_seconds', 'When the desktop last ran restic check on a repository, in seconds since the epoch', (r) => (r.check ? seconds(r.check.at) : undefined));
    perRepo('rest_server_check_last_ok', 'Whether the last restic check found nothing wrong (1), or found damage or could not run (0)', (r) => (r.check ? Number(r.check.outcome === 'ok') : undefined));
  }

  private careRecord(): Promise<CareRecord> {
    if (!this.careRead || Date.now() - this.careRead.at > SCRUB_READ_MS) {
      this.careRead = { at: Date.now(), record: readCareRecord(this.root).catch((): CareRecord => ({ version: 1, repos: {} })) };
    }
    return this.careRead.record;
  }

  private scrubState(): Promise<ScrubState> {
    if (!this.scrubRead || Date.now() - this.scrubRead.at > SCRUB_READ_MS) {
      const empty: ScrubState = { version: 1, current: null, last: null, open: [], settled: {} };
      this.scrubRead = { at: Date.now(), state: readScrubState(this.root).catch(() => empty) };
    }
    return this.scrubRead.state;
  }

  /** Starts from what is on disk: every repository's size and newest snapshot. */
  static async open(root: string): Promise<Metrics> {
    const metrics = new Metrics(root);
    for (const repo of await findRepositories(root)) metrics.repos.set(repo, await repoStats(join(root, ...repo.split('/').filter(Boolean))));
    return metrics;
  }

  /** Counts one request: reads, writes and deletions of objects (and config), as rest-server does. */
  record(event: RequestEvent): void {
    if (event.repo === null || event.type === null || event.status >= 300) return;
    const operation = event.method === 'POST' ? 'write' : event.method === 'DELETE' ? 'delete' : event.method === 'GET' && event.id !== null ? 'read' : undefined;
    if (!operation) return;
    const labels = { user: event.user ?? '', repo: event.repo, type: event.type };
    this.counters[operation].count.inc(labels);
    this.counters[operation].bytes.inc(labels, event.bytes);
    const stats = this.repos.get(event.repo) ?? { bytes: 0, lastSnapshotMs: 0 };
    if (operation === 'write') stats.bytes += event.bytes;
    if (operation === 'delete') stats.bytes = Math.max(0, stats.bytes - event.bytes);
    if (operation === 'write' && event.type === 'snapshots') stats.lastSnapshotMs = event.time.getTime();
    this.repos.set(event.repo, stats);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

async function repoStats(folder: string): Promise<RepoStats> {
  const stats: RepoStats = { bytes: 0, lastSnapshotMs: 0 };
  const add = async (dir: string, snapshots: boolean, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth > 0) await add(path, snapshots, depth - 1);
      if (!entry.isFile()) continue;
      const info = await lstat(path).catch(() => undefined);
      if (!info) continue;
      stats.bytes += info.size;
      if (snapshots && isObjectId(entry.name)) stats.lastSnapshotMs = Math.max(stats.lastSnapshotMs, info.mtimeMs);
    }
  };
  const top = await readdir(folder, { withFileTypes: true }).catch(() => [] as Dirent[]);
  for (const entry of top) {
    if (entry.isFile()) stats.bytes += (await lstat(join(folder, entry.name)).catch(() => undefined))?.size ?? 0;
    else if (entry.isDirectory() && isObjectType(entry.name)) await add(join(folder, entry.name), entry.name === 'snapshots', 1);
  }
  return stats;
}
