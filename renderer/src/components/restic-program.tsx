import { useState } from 'preact/hooks';
import type { CaretakerView } from '../../../main/contract.js';
import { api } from '../api.js';
import { Card, ErrorText, useAction } from './ui.js';

/** Settings: the restic the desktop runs to look after the backups, its version, or how to install it. */
export function ResticProgram({ caretaker }: { caretaker: CaretakerView }) {
  const [path, setPath] = useState(caretaker.resticPath ?? '');
  const action = useAction();
  return (
    <Card title="restic on this desktop">
      <p class="why">The desktop runs restic itself to look after the backups of the computers whose encryption password it keeps: removing old backups, checking them, repairing them.</p>
      {caretaker.restic ? (
        <p class="ok-text" role="status">
          restic {caretaker.restic.version} is ready, at <code>{caretaker.restic.path}</code>.
        </p>
      ) : (
        <p class="warn-text" role="status">
          {caretaker.problem}
        </p>
      )}
      <form
        class="row-form"
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(() => api.setResticPath({ path: path.trim() === '' ? null : path.trim() }));
        }}
      >
        <label for="restic-path">Use the restic program at (leave empty for the one that comes with the app, or else the one installed on this computer)</label>
        <input id="restic-path" value={path} placeholder="/usr/local/bin/restic" onInput={(event) => setPath((event.target as HTMLInputElement).value)} />
        <button type="submit" class="button small" disabled={action.busy}>
          Save
        </button>
      </form>
      <ErrorText error={action.error} />
    </Card>
  );
}
