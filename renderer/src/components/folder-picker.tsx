import { useEffect, useState } from 'preact/hooks';
import type { Drive, FolderListing } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes } from '../format.js';
import { Badge, ErrorText, useAction } from './ui.js';

/**
 * Choosing where the backups go: the drives with their space and warnings,
 * then a folder on one of them (a folder browser, since headless mode has no
 * native dialog), or a path typed in.
 */
export function FolderPicker({
  onChoose,
  busy,
  chooseLabel = 'Use this folder',
  nativeDialog = false,
}: {
  onChoose: (path: string) => void;
  busy?: boolean;
  chooseLabel?: string;
  /** The desktop app can show the system's folder dialog too. */
  nativeDialog?: boolean;
}) {
  const [drives, setDrives] = useState<Drive[]>();
  const [listing, setListing] = useState<FolderListing>();
  const [typed, setTyped] = useState('');
  const [newName, setNewName] = useState('');
  const action = useAction();

  const open = (path?: string) =>
    action.run(async () => {
      const next = await api.browseFolder(path === undefined ? {} : { path });
      setListing(next);
      setTyped(next.path);
    });

  useEffect(() => {
    void action.run(async () => setDrives(await api.listDrives()));
    void open();
  }, []);

  const selectedDrive = drives
    ?.filter((drive) => listing && (listing.path === drive.mountPoint || listing.path.startsWith(drive.mountPoint.endsWith('/') ? drive.mountPoint : `${drive.mountPoint}/`)))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];

  return (
    <div class="picker">
      <ul class="drives" aria-label="Drives">
        {(drives ?? []).map((drive) => (
          <li key={drive.mountPoint}>
          <button type="button" class={`drive ${selectedDrive === drive ? 'selected' : ''}`} aria-pressed={selectedDrive === drive} onClick={() => void open(drive.mountPoint)}>
            <span class="drive-name">
              {drive.label}
              {drive.removable && <Badge tone="ok">removable</Badge>}
              {drive.network && <Badge tone="warn">network</Badge>}
            </span>
            <span class="drive-detail">
              {formatBytes(drive.freeBytes)} free of {formatBytes(drive.totalBytes)} · {drive.fileSystem}
            </span>
            <span class="drive-detail muted">{drive.mountPoint}</span>
          </button>
          </li>
        ))}
      </ul>
      {selectedDrive && selectedDrive.warnings.length > 0 && (
        <div class="warning" role="note">
          {selectedDrive.warnings.map((warning) => (
            <p key={warning}>{warning}</p>
          ))}
        </div>
      )}
      {listing && (
        <div class="browser">
          <div class="browser-path">
            <button type="button" class="button small" disabled={listing.parent === null} onClick={() => listing.parent && void open(listing.parent)} aria-label="Up one folder">
              ↑ Up
            </button>
            <form
              class="path-form"
              onSubmit={(event) => {
                event.preventDefault();
                void open(typed);
              }}
            >
              <label class="sr-only" for="folder-path">
                Folder
              </label>
              <input id="folder-path" value={typed} onInput={(event) => setTyped((event.target as HTMLInputElement).value)} spellcheck={false} />
              <button type="submit" class="button small">
                Open
              </button>
            </form>
          </div>
          <ul class="folders" aria-label="Folders">
            {listing.folders.length === 0 && <li class="muted empty">No folders here.</li>}
            {listing.folders.map((folder) => (
              <li key={folder.path}>
                <button type="button" class="folder" onClick={() => void open(folder.path)}>
                  <span aria-hidden="true">📁</span> {folder.name}
                </button>
              </li>
            ))}
          </ul>
          <form
            class="new-folder"
            onSubmit={(event) => {
              event.preventDefault();
              void action.run(async () => {
                const created = await api.createFolder({ parent: listing.path, name: newName });
                setListing(created);
                setTyped(created.path);
                setNewName('');
              });
            }}
          >
            <label for="new-folder-name">New folder here</label>
            <input id="new-folder-name" value={newName} placeholder="restic-backups" onInput={(event) => setNewName((event.target as HTMLInputElement).value)} />
            <button type="submit" class="button small" disabled={newName.trim() === ''}>
              Create
            </button>
          </form>
        </div>
      )}
      {nativeDialog && (
        <button
          type="button"
          class="button"
          onClick={() =>
            void action.run(async () => {
              const picked = await api.pickFolder();
              if (picked !== null) await open(picked);
            })
          }
        >
          Choose with the system’s folder dialog…
        </button>
      )}
      <ErrorText error={action.error} />
      <div class="picker-choose">
        <span class="muted">Backups will go into</span> <code>{listing?.path ?? '…'}</code>
        <button type="button" class="button primary" disabled={!listing || busy} onClick={() => listing && onChoose(listing.path)}>
          {chooseLabel}
        </button>
      </div>
    </div>
  );
}
