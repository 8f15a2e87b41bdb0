import type { DownloadFormat, FoundVersion, SearchResult, SnapshotEntry, SnapshotView } from '../../contract.js';
import { count, record, text } from '../core/restic-json.js';

/** The most versions a search lists: enough to pick from, and a page that stays light. */
export const MAX_VERSIONS = 200;

const TYPES = new Set<SnapshotEntry['type']>(['dir', 'file', 'symlink']);

/** One node of `restic ls --json` (a line), or null for the snapshot line and anything else. */
export function readNode(line: string): SnapshotEntry | null {
  let value: Record<string, unknown>;
  try {
    value = record(JSON.parse(line));
  } catch {
    return null;
  }
  const name = text(value.name);
  const path = text(value.path);
  if (value.struct_type !== 'node' || name === null || path === null) return null;
  const type = text(value.type) as SnapshotEntry['type'] | null;
  return {
    name,
    path,
    type: type !== null && TYPES.has(type) ? type : 'other',
    sizeBytes: type === 'file' ? (count(value.size) ?? 0) : null,
    modifiedAt: text(value.mtime),
  };
}

/** The folder a path inside a backup is in ('/' for the top). */
export function parentOf(path: string): string {
  const cut = path.replace(/\/+$/, '').lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** The last part of a path inside a backup; empty for '/'. */
export const baseName = (path: string): string => path.replace(/\/+$/, '').slice(path.replace(/\/+$/, '').lastIndexOf('/') + 1);

/** A folder's entries as the page shows them: folders first, then by name. */
export function sortEntries(entries: SnapshotEntry[]): SnapshotEntry[] {
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  return entries.sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || collator.compare(a.name, b.name));
}

/** restic's pattern for a name typed by a person: a part of the name, unless they wrote wildcards themselves. */
export const searchPattern = (name: string): string => (/[*?[]/.test(name) ? name : `*${name}*`);

/**
 * `restic find --json` over every snapshot: each version of a file once
 * (its path, size and time of change), with the newest snapshot that holds
 * it, newest versions first.
 */
export function readFind(json: unknown, snapshots: SnapshotView[]): SearchResult {
  const timeOf = new Map(snapshots.map((snapshot) => [snapshot.id, snapshot.time]));
  const versions = new Map<string, FoundVersion>();
  for (const hit of (Array.isArray(json) ? json : []).map(record)) {
    const snapshotId = text(hit.snapshot);
    const snapshotTime = snapshotId === null ? undefined : timeOf.get(snapshotId);
    if (snapshotId === null || snapshotTime === undefined) continue;
    for (const match of (Array.isArray(hit.matches) ? hit.matches : []).map(record)) {
      const path = text(match.path);
      if (path === null || match.type === 'dir') continue;
      const sizeBytes = count(match.size);
      const modifiedAt = text(match.mtime);
      const key = JSON.stringify([path, sizeBytes, modifiedAt]);
      const known = versions.get(key);
      if (!known) versions.set(key, { path, sizeBytes, modifiedAt, snapshotId, snapshotTime, snapshots: 1 });
      else {
        known.snapshots += 1;
        if (Date.parse(snapshotTime) > Date.parse(known.snapshotTime)) Object.assign(known, { snapshotId, snapshotTime });
      }
    }
  }
  const sorted = [...versions.values()].sort((a, b) => a.path.localeCompare(b.path) || Date.parse(b.modifiedAt ?? '') - Date.parse(a.modifiedAt ?? ''));
  return { versions: sorted.slice(0, MAX_VERSIONS), truncated: sorted.length > MAX_VERSIONS };
}

/** restic's --include pattern for exactly this path: its wildcard characters taken literally. */
export const includePattern = (path: string): string => path.replace(/[\\*?[\]]/g, (character) => `\\${character}`);

/** The name a download is saved under: the file's own, or the folder's with .zip or .tar. */
export function downloadName(path: string, format: DownloadFormat, computer: string): string {
  const base = baseName(path) || computer.replace(/[\\/:*?"<>|]/g, '-');
  return format === 'file' ? base : `${base}.${format}`;
}
