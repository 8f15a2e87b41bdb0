import { useEffect, useRef, useState } from 'preact/hooks';
import type { DownloadFormat, SnapshotEntry, SnapshotFolder, SnapshotView } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes, formatDay, formatTime } from '../format.js';
import { ErrorText, useAction } from './ui.js';

/** What the user asked to get back: a file or folder of a backup, downloaded or restored into a folder. */
export type Wanted = { path: string; type: SnapshotEntry['type']; how: DownloadFormat | 'restore' };

/** The folders leading to `path`, each with the path to open it. */
function crumbs(path: string): { name: string; path: string }[] {
  const parts = path.split('/').filter(Boolean);
  return [{ name: 'Top', path: '/' }, ...parts.map((name, index) => ({ name, path: `/${parts.slice(0, index + 1).join('/')}` }))];
}

/** The folder of a backup's own files to open first: the one folder it backed up, or the top. */
export const startFolder = (snapshot: SnapshotView): string => (snapshot.paths.length === 1 && snapshot.paths[0]?.startsWith('/') ? (snapshot.paths[0] as string) : '/');

/** A backup's folders like a file manager: a page at a time, with downloads and restores of what is in them. */
export function SnapshotBrowser({ username, snapshot, start, onWant }: { username: string; snapshot: SnapshotView; start: string; onWant: (wanted: Wanted) => void }) {
  const [folder, setFolder] = useState<SnapshotFolder | null>(null);
  /** Where the pages before this one started, to go back. */
  const [earlier, setEarlier] = useState<number[]>([]);
  const action = useAction();
  const show = (path: string, offset: number, before: number[]) =>
    void action.run(async () => {
      setFolder(await api.browseSnapshot({ username, snapshotId: snapshot.id, path, offset }));
      setEarlier(before);
    });
  const open = (path: string) => show(path, 0, []);
  useEffect(() => open(start), [snapshot.id, start]);
  // Another folder or page starts at its top.
  const list = useRef<HTMLDivElement>(null);
  useEffect(() => list.current?.scrollTo({ top: 0 }), [folder]);

  return (
    <div class="snapshot-browser" aria-label={`The backup of ${formatDay(snapshot.time)} ${formatTime(snapshot.time)}`} role="region">
      <nav class="crumbs" aria-label="Folder">
        {crumbs(folder?.path ?? start).map((crumb, index, all) =>
          index === all.length - 1 ? (
            <strong key={crumb.path}>{crumb.name}</strong>
          ) : (
            <span key={crumb.path}>
              <button type="button" class="link" onClick={() => open(crumb.path)}>
                {crumb.name}
              </button>{' '}
              /{' '}
            </span>
          ),
        )}
      </nav>
      {folder && (
        <div class="button-row">
          <button type="button" class="button small" onClick={() => onWant({ path: folder.path, type: 'dir', how: 'zip' })}>
            Download this folder (.zip)
          </button>
          <button type="button" class="button small" onClick={() => onWant({ path: folder.path, type: 'dir', how: 'tar' })}>
            Download this folder (.tar)
          </button>
          <button type="button" class="button small" onClick={() => onWant({ path: folder.path, type: 'dir', how: 'restore' })}>
            Restore this folder…
          </button>
        </div>
      )}
      <ErrorText error={action.error} />
      {folder && (
        <div class="table-scroll" ref={list}>
          <table class="table entries">
            <thead>
              <tr>
                <th>Name</th>
                <th class="num">Size</th>
                <th>Changed</th>
                <th>
                  <span class="sr-only">Get it back</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {folder.entries.length === 0 && (
                <tr>
                  <td colSpan={4} class="muted">
                    This folder is empty.
                  </td>
                </tr>
              )}
              {folder.entries.map((entry) => (
                <tr key={entry.path}>
                  <td>
                    {entry.type === 'dir' ? (
                      <button type="button" class="link" onClick={() => open(entry.path)}>
                        <span aria-hidden="true">📁</span> {entry.name}
                      </button>
                    ) : (
                      <span>
                        <span aria-hidden="true">📄</span> {entry.name}
                      </span>
                    )}
                  </td>
                  <td class="num">{entry.type === 'file' ? formatBytes(entry.sizeBytes) : ''}</td>
                  <td>{entry.modifiedAt ? `${formatDay(entry.modifiedAt)} ${formatTime(entry.modifiedAt)}` : ''}</td>
                  <td class="entry-actions">
                    {entry.type === 'file' && (
                      <button type="button" class="button small" aria-label={`Download ${entry.name}`} onClick={() => onWant({ path: entry.path, type: entry.type, how: 'file' })}>
                        Download
                      </button>
                    )}
                    {entry.type !== 'other' && (
                      <button type="button" class="button small" aria-label={`Restore ${entry.name}`} onClick={() => onWant({ path: entry.path, type: entry.type, how: 'restore' })}>
                        Restore…
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {folder && folder.total > folder.entries.length && (
        <div class="pager">
          <button type="button" class="button small" disabled={action.busy || folder.offset === 0} onClick={() => show(folder.path, earlier.at(-1) ?? 0, earlier.slice(0, -1))}>
            ← Previous
          </button>
          <span class="muted">
            {(folder.offset + 1).toLocaleString()}–{(folder.offset + folder.entries.length).toLocaleString()} of {folder.total.toLocaleString()}
          </span>
          <button type="button" class="button small" disabled={action.busy || folder.offset + folder.entries.length >= folder.total} onClick={() => show(folder.path, folder.offset + folder.entries.length, [...earlier, folder.offset])}>
            Next →
          </button>
        </div>
      )}
      {action.busy && <p class="muted">Reading the backup…</p>}
    </div>
  );
}
