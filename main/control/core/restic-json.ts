import { isObjectId } from '../../../server/repo-path.js';
import type { SnapshotView } from '../../contract.js';

/** One snapshot as `restic snapshots --json` gives it: what the restore page shows, and what the backup left out. */
export interface ResticSnapshot extends SnapshotView {
  excludes: string[];
}

/** What restic's JSON holds, taken only where it has the type expected. */
export const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
export const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
export const count = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null);
export const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});

/** `restic snapshots --json`, newest first; anything without a snapshot's ID and time is left out. */
export function readSnapshots(json: unknown): ResticSnapshot[] {
  return (Array.isArray(json) ? json : [])
    .map(record)
    .flatMap((snapshot): ResticSnapshot[] => {
      const id = text(snapshot.id);
      const time = text(snapshot.time);
      if (id === null || time === null || !isObjectId(id)) return [];
      return [
        {
          id,
          shortId: text(snapshot.short_id) ?? id.slice(0, 8),
          time,
          host: text(snapshot.hostname) ?? '',
          paths: texts(snapshot.paths),
          excludes: texts(snapshot.excludes),
          sizeBytes: count(record(snapshot.summary).total_bytes_processed),
        },
      ];
    })
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
}
