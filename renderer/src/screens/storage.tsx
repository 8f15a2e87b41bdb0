import { useState } from 'preact/hooks';
import type { AppState } from '../../../main/contract.js';
import { api } from '../api.js';
import { FolderPicker } from '../components/folder-picker.js';
import { IntegrityCard } from '../components/integrity.js';
import { OffsiteCard } from '../components/offsite.js';
import { KnownDisks } from '../components/rotating-disks.js';
import { Card, ErrorText, Meter, useAction } from '../components/ui.js';
import { formatBytes } from '../format.js';

/** The disk in use, safe eject, switching to another disk or folder, the integrity checks and the offsite copy. */
export function Storage({ state }: { state: AppState }) {
  const [switching, setSwitching] = useState(false);
  const [ejected, setEjected] = useState<string | null>(null);
  const action = useAction();
  const storage = state.storage;
  const running = state.status !== 'stopped' && state.status !== 'error';
  const current = state.disks.find((disk) => disk.current);
  return (
    <div class="screen">
      <h1>Storage</h1>
      <Card title="Disk in use">
        {storage ? (
          <>
            <p class="big">{storage.label}</p>
            <Meter used={storage.totalBytes > 0 ? 1 - storage.freeBytes / storage.totalBytes : 0} label="Disk used" />
            <dl class="facts">
              <dt>Folder</dt>
              <dd>
                <code>{storage.folder}</code>
              </dd>
              <dt>Free</dt>
              <dd>
                {formatBytes(storage.freeBytes)} of {formatBytes(storage.totalBytes)}
              </dd>
              <dt>File system</dt>
              <dd>{storage.fileSystem ?? 'unknown'}</dd>
            </dl>
            {storage.warnings.map((warning) => (
              <p class={storage.inMemory ? 'error' : 'warning'} key={warning}>
                {storage.inMemory ? <strong>{warning}</strong> : warning}
              </p>
            ))}
            <details class="more">
              <summary>Details</summary>
              <dl class="facts">
                <dt>Disk identity</dt>
                <dd>
                  <code>{storage.diskId}</code>
                </dd>
              </dl>
            </details>
          </>
        ) : (
          <p class="muted">
            {current
              ? `“${current.label}” is not plugged in (${current.folder}). Plug it in: backups resume by themselves.`
              : 'No backup folder is chosen yet.'}
          </p>
        )}
        <div class="button-row">
          {/* Only a disk that is there can be ejected. */}
          {storage && (
            <button
              type="button"
              class="button"
              disabled={!running || action.busy}
              onClick={() =>
                void action.run(async () => {
                  const result = await api.ejectDisk();
                  setEjected(result.message);
                })
              }
            >
              Safe eject
            </button>
          )}
          <button type="button" class="button" onClick={() => setSwitching(!switching)}>
            {switching ? 'Cancel' : 'Use another disk or folder…'}
          </button>
        </div>
        {ejected && (
          <p class="ok-text" role="status">
            {ejected}
          </p>
        )}
        <ErrorText error={action.error} />
      </Card>
      {switching && (
        <Card title="Another disk or folder">
          <p class="why">A disk used before is recognised by its marker file; a new one is remembered next to the others, so two disks can take turns.</p>
          <FolderPicker
            chooseLabel="Use this folder"
            busy={action.busy}
            nativeDialog={state.nativeFolderDialog}
            onChoose={(path) =>
              void action.run(async () => {
                await api.chooseFolder({ path });
                setSwitching(false);
              })
            }
          />
        </Card>
      )}
      <IntegrityCard state={state} />
      <OffsiteCard state={state} />
      <KnownDisks state={state} />
    </div>
  );
}
