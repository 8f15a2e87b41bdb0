import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import type { RequestEvent } from './events.js';
import { isObjectId, isObjectType, MAX_REPO_DEPTH } from './repo-path.js';

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

/**
 * rest-server's Prometheus counters, with the same names and labels so its
 * Grafana dashboard works, plus gauges for each repository's size and last
 * snapshot time. A private registry: nothing global, nothing shared.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters: Record<Operation, { count: Counter<string>; bytes: Counter<string> }>;
  private readonly repos = new Map<string, RepoStats>();

  private constructor() {
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
  }

  /** Starts from what is on disk: every repository's size and newest snapshot. */
  static async open(root: string): Promise<Metrics> {
    const metrics = new Metrics();
    await metrics.scan(root, [], 0);
    return metrics;
  }

  private async scan(folder: string, repo: string[], depth: number): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((entry) => entry.name === 'config' && entry.isFile())) {
      this.repos.set(repo.join('/'), await repoStats(folder));
    }
    if (depth >= MAX_REPO_DEPTH) return;
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && !isObjectType(entry.name)) {
        await this.scan(join(folder, entry.name), [...repo, entry.name], depth + 1);
      }
    }
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
