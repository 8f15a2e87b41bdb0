import { useEffect, useState } from 'preact/hooks';
import type { Drive, FolderListing } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes } from '../format.js';
import { Badge, Confirm, ErrorText, useAction, WhyDisabled } from './ui.js';

/**
 * Choosing where the backups go: first the drives with their space and
 * warnings, then a folder on one of them (a folder browser, since headless
 * mode has no native dialog), or a path typed in. A folder on the disk the
 * system runs from is used only after saying why an external disk is better;
 * the home folder itself never is (a folder inside it can be).
 */
export function FolderPicker({
  onChoose,
  busy,
  chooseLabel = 'Use this folder',
  nativeDialog = false,
  restoring = false,
}: {
  onChoose: (path: string) => void;
  busy?: boolean;
  chooseLabel?: string;
  /** The desktop app can show the system's folder dialog too. */
  nativeDialog?: boolean;
  /** A folder for restored files rather than for the backups: any folder will do, the home folder and this computer's disk included. */
  restoring?: boolean;
}) {
  const [drives, setDrives] = useState<Drive[]>();
  const [listing, setListing] = useState<FolderListing>();
  const [typed, setTyped] = useState('');
  const [newName, setNewName] = useState('');
  const [confirming, setConfirming] = useState(false);
  const action = useAction();

  const show = (next: FolderListing) => {
    setListing(next);
    setTyped(next.path);
    setConfirming(false);
  };
  const open = (path: string) => action.run(async () => show(await api.browseFolder({ path })));

  useEffect(() => {
    void action.run(async () => setDrives(await api.listDrives()));
  }, []);

  const selectedDrive = listing?.drive;

  const cannotChoose = !listing
    ? restoring
      ? 'Choose a drive above, then the folder.'
      : 'Choose a drive above (an external disk is best), then the folder for the backups.'
    : restoring
      ? null
      : listing.home
      ? 'Your home folder holds everything else too: make a folder for the backups in it (New folder here), or choose an external disk.'
      : null;
  const choose = () => {
    if (!listing || cannotChoose) return;
    if (selectedDrive?.system && !restoring && !confirming) setConfirming(true);
    else onChoose(listing.path);
  };

  return (
    <div class="picker">
      <ul class="drives" aria-label="Drives">
        {(drives ?? []).map((drive) => (
          <li key={drive.mountPoint}>
          <button type="button" class={`drive ${selectedDrive?.mountPoint === drive.mountPoint ? 'selected' : ''}`} aria-pressed={selectedDrive?.mountPoint === drive.mountPoint} onClick={() => void open(drive.mountPoint)}>
            <span class="drive-name">
              {drive.label}
              {drive.removable && <Badge tone="ok">removable</Badge>}
              {drive.network && <Badge tone="warn">network</Badge>}
              {drive.system && <Badge tone="warn">this computer’s disk</Badge>}
            </span>
            <span class="drive-detail">
              {formatBytes(drive.freeBytes)} free of {formatBytes(drive.totalBytes)} · {drive.fileSystem}
            </span>
            <span class="drive-detail muted">{drive.mountPoint}</span>
          </button>
          </li>
        ))}
      </ul>
      {!restoring && listing && listing.warnings.length > 0 && (
        // A folder in memory loses everything at a restart: said in red, not as one more caution.
        <div class={listing.inMemory ? 'error' : 'warning'} role="note">
          {listing.warnings.map((warning) => (
            <p key={warning}>{listing.inMemory ? <strong>{warning}</strong> : warning}</p>
          ))}
        </div>
      )}
      <div class="browser">
        <div class="browser-path">
          {listing && (
            <button type="button" class="button small" disabled={listing.parent === null} onClick={() => listing.parent && void open(listing.parent)} aria-label="Up one folder">
              ↑ Up
            </button>
          )}
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
            <input id="folder-path" value={typed} placeholder="or type a folder" onInput={(event) => setTyped((event.target as HTMLInputElement).value)} spellcheck={false} />
            <button type="submit" class="button small" disabled={typed.trim() === ''}>
              Open
            </button>
          </form>
        </div>
        {listing && (
          <>
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
                  show(await api.createFolder({ parent: listing.path, name: newName }));
                  setNewName('');
                });
              }}
            >
              <label for="new-folder-name">New folder here</label>
              <input id="new-folder-name" value={newName} placeholder={restoring ? 'Restored files' : 'restic-backups'} onInput={(event) => setNewName((event.target as HTMLInputElement).value)} />
              <button type="submit" class="button small" disabled={newName.trim() === ''}>
                Create
              </button>
            </form>
          </>
        )}
      </div>
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
      {confirming && listing ? (
        <Confirm
          id="system-disk"
          question="Keep the backups on the disk this computer runs from?"
          yes="Use this disk anyway"
          no="Choose another disk"
          busy={busy}
          onNo={() => setConfirming(false)}
          onYes={choose}
        >
          If this computer breaks, is stolen or catches a virus, these backups are lost with it. An external USB disk used only for backups survives all of that; choose one above if you have it.
        </Confirm>
      ) : (
        <div class="picker-choose">
          <span class="muted">{restoring ? 'Files will go into' : 'Backups will go into'}</span> <code>{listing?.path ?? '…'}</code>
          {listing?.fileSystem && <span class="muted"> ({listing.fileSystem})</span>}
          <button type="button" class="button primary" disabled={cannotChoose !== null || busy} aria-describedby="picker-why" onClick={choose}>
            {chooseLabel}
          </button>
        </div>
      )}
      <WhyDisabled id="picker-why" reason={cannotChoose} />
    </div>
  );
}
