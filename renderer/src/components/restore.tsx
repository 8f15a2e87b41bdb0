import { useEffect, useRef, useState } from 'preact/hooks';
import type { CaretakerView, ComputerOverview, SearchResult, SnapshotView, TransferView } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes, formatDay, formatTime, plural } from '../format.js';
import { FolderPicker } from './folder-picker.js';
import { SnapshotBrowser, startFolder, type Wanted } from './restore-browser.js';
import { TransferProgress } from './restore-transfer.js';
import { ErrorText, useAction } from './ui.js';

const when = (iso: string) => `${formatDay(iso)} ${formatTime(iso)}`;
/** A day typed in a date field (`2026-10-31`) as the start of that day here, in milliseconds. */
const dayStart = (day: string) => new Date(`${day}T00:00:00`).getTime();
const DAY_MS = 86_400_000;

/** Where a restore goes, and whether it may replace files already there. */
function RestoreInto({ wanted, nativeFolderDialog, onStart, onCancel }: { wanted: Wanted; nativeFolderDialog: boolean; onStart: (target: string, replace: boolean) => void; onCancel: () => void }) {
  const [replace, setReplace] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.scrollIntoView({ block: 'start' }), [wanted]);
  const name = wanted.path.split('/').filter(Boolean).at(-1) ?? 'everything';
  return (
    <div class="restore-into" role="region" aria-label="Where to restore" ref={box}>
      <h4>Restore “{name}” into a folder on this desktop</h4>
      <p class="muted">Choose the folder it goes into. Files that are already there are left as they are, unless you tick the box below.</p>
      <label class="check">
        <input type="checkbox" checked={replace} onChange={(event) => setReplace((event.target as HTMLInputElement).checked)} />
        Replace files that are already there with the ones from the backup
      </label>
      <FolderPicker restoring nativeDialog={nativeFolderDialog} chooseLabel="Restore here" onChoose={(target) => onStart(target, replace)} />
      <button type="button" class="button small" onClick={onCancel}>
        Do not restore
      </button>
    </div>
  );
}

/** Finding a file by name in every backup: each version, with when it was backed up. */
function Search({ username, onWant }: { username: string; onWant: (snapshotId: string, wanted: Wanted) => void }) {
  const [name, setName] = useState('');
  const [found, setFound] = useState<SearchResult | null>(null);
  const action = useAction();
  return (
    <div class="restore-search">
      <form
        class="row-form"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => setFound(await api.searchBackups({ username, name })));
        }}
      >
        <label for="search-name">Find a file by name</label>
        <input id="search-name" value={name} placeholder="holiday.jpg" onInput={(event) => setName((event.target as HTMLInputElement).value)} />
        <button type="submit" class="button small" disabled={name.trim() === '' || action.busy}>
          {action.busy ? 'Looking…' : 'Find'}
        </button>
      </form>
      <ErrorText error={action.error} />
      {found && (
        <div role="region" aria-label="Files found">
          <p class="muted">
            {found.versions.length === 0 ? `No file called “${name.trim()}” in these backups.` : `${plural(found.versions.length, 'version')} found${found.truncated ? ' (the first ones only: type more of the name to find fewer)' : ''}.`}
          </p>
          {found.versions.length > 0 && (
            <table class="table entries">
              <thead>
                <tr>
                  <th>File</th>
                  <th class="num">Size</th>
                  <th>Changed</th>
                  <th>In the backup of</th>
                  <th>
                    <span class="sr-only">Get it back</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {found.versions.map((version) => (
                  <tr key={`${version.path}-${version.snapshotId}-${version.modifiedAt}`}>
                    <td class="path-cell">{version.path}</td>
                    <td class="num">{formatBytes(version.sizeBytes)}</td>
                    <td>{version.modifiedAt ? when(version.modifiedAt) : ''}</td>
                    <td>{when(version.snapshotTime)}</td>
                    <td class="entry-actions">
                      <button type="button" class="button small" onClick={() => onWant(version.snapshotId, { path: version.path, type: 'file', how: 'file' })}>
                        Download
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}

/**
 * "Restore" on a computer's page: its backups, newest first, filtered by date;
 * a backup's folders to browse; a search by file name; and a download or a
 * restore into a folder here, with its progress. Only with the kept password.
 */
export function RestoreSection({ computer, caretaker, nativeFolderDialog }: { computer: ComputerOverview; caretaker: CaretakerView; nativeFolderDialog: boolean }) {
  const kept = caretaker.keptPasswords.includes(computer.username);
  const [snapshots, setSnapshots] = useState<SnapshotView[] | null>(null);
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [open, setOpen] = useState<SnapshotView | null>(null);
  const [restoring, setRestoring] = useState<{ snapshotId: string; wanted: Wanted } | null>(null);
  const [transfer, setTransfer] = useState<TransferView | null>(null);
  const action = useAction();
  const load = () => void action.run(async () => setSnapshots(await api.listSnapshots({ username: computer.username })));
  // A backup that arrives while the page is open is listed.
  useEffect(() => {
    if (kept) load();
  }, [kept, computer.username, computer.lastBackupAt]);

  const want = (snapshotId: string, wanted: Wanted) => {
    if (wanted.how === 'restore') return setRestoring({ snapshotId, wanted });
    void action.run(async () => {
      const started = await api.startDownload({ username: computer.username, snapshotId, path: wanted.path, format: wanted.how as Exclude<Wanted['how'], 'restore'> });
      if (started) setTransfer(started);
    });
  };
  const shown = (snapshots ?? []).filter((snapshot) => {
    const time = Date.parse(snapshot.time);
    return (from === '' || time >= dayStart(from)) && (until === '' || time < dayStart(until) + DAY_MS);
  });

  return (
    <section aria-labelledby="restore-title" class="restore">
      <h3 id="restore-title">On this desktop</h3>
      {!kept ? (
        <p class="muted">
          To get files back from {computer.displayName}’s backups on this desktop, keep its encryption password first (“Keep the encryption password” under Looking after the backups, below): restic needs it to read the
          backups.
        </p>
      ) : (
        <>
          <p class="muted">Find a file by name, or open a backup below and pick the files or folders to download or to restore into a folder on this desktop.</p>
          {transfer && <TransferProgress started={transfer} onClose={() => setTransfer(null)} key={transfer.id} />}
          {restoring && (
            <RestoreInto
              wanted={restoring.wanted}
              nativeFolderDialog={nativeFolderDialog}
              onCancel={() => setRestoring(null)}
              onStart={(target, replace) =>
                void action.run(async () => {
                  setTransfer(await api.restoreFolder({ username: computer.username, snapshotId: restoring.snapshotId, path: restoring.wanted.path, target, replace }));
                  setRestoring(null);
                })
              }
            />
          )}
          <ErrorText error={action.error} />
          <Search username={computer.username} onWant={want} />
          <div class="row-form">
            <div class="field narrow">
              <label for="restore-from">Backups from</label>
              <input id="restore-from" type="date" value={from} onInput={(event) => setFrom((event.target as HTMLInputElement).value)} />
            </div>
            <div class="field narrow">
              <label for="restore-until">until</label>
              <input id="restore-until" type="date" value={until} onInput={(event) => setUntil((event.target as HTMLInputElement).value)} />
            </div>
            <button type="button" class="button small" disabled={action.busy} onClick={load}>
              Look again
            </button>
          </div>
          {snapshots === null ? (
            <p class="muted">{action.busy ? 'Reading the backups…' : ''}</p>
          ) : (
            <div class="table-scroll snapshot-list">
              <table class="table">
                <thead>
                  <tr>
                    <th>Backed up</th>
                    <th>From</th>
                    <th>Folders</th>
                    <th class="num">Size</th>
                    <th>
                      <span class="sr-only">Open</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {shown.length === 0 && (
                    <tr>
                      <td colSpan={5} class="muted">
                        {snapshots.length === 0 ? `${computer.displayName} has no backups yet.` : 'No backup between these dates.'}
                      </td>
                    </tr>
                  )}
                  {shown.map((snapshot) => (
                    <tr key={snapshot.id} class={open?.id === snapshot.id ? 'selected' : ''}>
                      <td>{when(snapshot.time)}</td>
                      <td>{snapshot.host}</td>
                      <td class="path-cell">{snapshot.paths.join(', ')}</td>
                      <td class="num">{formatBytes(snapshot.sizeBytes)}</td>
                      <td>
                        <button type="button" class="button small" aria-label={`Open the backup of ${when(snapshot.time)}`} onClick={() => setOpen(snapshot)}>
                          Open
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {open && <SnapshotBrowser username={computer.username} snapshot={open} start={startFolder(open)} onWant={(wanted) => want(open.id, wanted)} key={open.id} />}
        </>
      )}
    </section>
  );
}
