import { useState } from 'preact/hooks';
import type { AppState, ComputerOverview, DiskView } from '../../../main/contract.js';
import { api } from '../api.js';
import { plural, timeAgo } from '../format.js';
import { Badge, Card, ErrorText, useAction } from './ui.js';

/** "9 days", "3 hours", "less than an hour": how long since a moment. */
function timeSince(iso: string, now = Date.now()): string {
  const hours = Math.floor((now - Date.parse(iso)) / 3_600_000);
  if (hours < 1) return 'less than an hour';
  return hours < 48 ? plural(hours, 'hour') : plural(Math.floor(hours / 24), 'day');
}

/** Where a disk is: in use, plugged in, or away (and since when). */
function whereDiskIs(disk: DiskView): string {
  if (disk.current) return disk.present ? 'in now' : 'in use, not plugged in';
  if (disk.present) return 'plugged in, not in use';
  return disk.lastInUseAt ? `away for ${timeSince(disk.lastInUseAt)}` : 'away';
}

/** The dashboard's block for disks that take turns: which one is in, how long each other one has been away, the newest backup on each. */
export function RotatingDisks({ state }: { state: AppState }) {
  if (state.disks.length < 2) return null;
  const current = state.disks.find((disk) => disk.current);
  return (
    <Card title="Backup disks">
      {current && (
        <p>
          In now: <strong>{current.label}</strong>
        </p>
      )}
      <ul class="disk-list" data-testid="rotating-disks">
        {state.disks.map((disk) => (
          <li key={disk.id}>
            <strong>{disk.label}</strong> {disk.current ? <Badge tone="ok">in</Badge> : <Badge tone="muted">{whereDiskIs(disk)}</Badge>}
            <span class="muted"> · newest backup {timeAgo(disk.lastBackupAt)}</span>
          </li>
        ))}
      </ul>
      <p class="hint">The app reminds you to swap them when one has been away for more than {plural(state.settings.swapReminderDays, 'day')}.</p>
    </Card>
  );
}

/** One known disk in Storage: its name (which can be changed), where it is, and forgetting it. */
function KnownDisk({ disk }: { disk: DiskView }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(disk.label);
  const action = useAction();
  return (
    <li>
      {editing ? (
        <form
          class="row-form inline"
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(async () => {
              await api.renameDisk({ diskId: disk.id, label: name });
              setEditing(false);
            });
          }}
        >
          <label for={`disk-name-${disk.id}`}>Name of the disk</label>
          <input id={`disk-name-${disk.id}`} value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} />
          <button type="submit" class="button small" disabled={action.busy || name.trim() === ''}>
            Save
          </button>
          <button type="button" class="button small" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <strong>{disk.label}</strong> <code class="muted">{disk.folder}</code>{' '}
          {disk.current && !disk.present ? <Badge tone="warn">{whereDiskIs(disk)}</Badge> : <Badge tone={disk.current ? 'ok' : 'muted'}>{whereDiskIs(disk)}</Badge>}
          <span class="muted"> · newest backup {timeAgo(disk.lastBackupAt)}</span>
          <button type="button" class="button small" onClick={() => setEditing(true)}>
            Rename
          </button>
          {!disk.current && (
            <button type="button" class="button small" onClick={() => void action.run(() => api.forgetDisk({ diskId: disk.id }))}>
              Forget
            </button>
          )}
        </>
      )}
      <ErrorText error={action.error} />
    </li>
  );
}

/** Storage's list of the disks the app knows, with the reminder to swap them when there are several. */
export function KnownDisks({ state }: { state: AppState }) {
  const [days, setDays] = useState(String(state.settings.swapReminderDays));
  const action = useAction();
  return (
    <Card title="Known disks">
      <p class="why">Give each disk a name you recognise, such as “Home disk” and “Away disk”: the app shows it everywhere instead of the folder’s name.</p>
      <ul class="disk-list">
        {state.disks.map((disk) => (
          <KnownDisk key={disk.id} disk={disk} />
        ))}
      </ul>
      {state.disks.length > 1 && (
        <form
          class="row-form"
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(() => api.updateSettings({ swapReminderDays: Number(days) }));
          }}
        >
          <label for="swap-days">Remind me to swap the disks when one has been away for more than (days)</label>
          <input id="swap-days" class="narrow" inputMode="numeric" value={days} onInput={(event) => setDays((event.target as HTMLInputElement).value)} />
          <button type="submit" class="button small" disabled={action.busy}>
            Save
          </button>
        </form>
      )}
      <ErrorText error={action.error} />
    </Card>
  );
}

/** On a computer's page, with disks that take turns: which disk holds which of its snapshots, as the app last saw each disk. */
export function ComputerDisks({ computer }: { computer: ComputerOverview }) {
  if (computer.disks.length < 2) return null;
  const current = computer.disks.find((disk) => disk.current);
  return (
    <div class="computer-disks" data-testid="computer-disks">
      <p>Its backups on each disk (a disk holds the backups made while it was plugged in):</p>
      <ul class="disk-list">
        {computer.disks.map((disk) => (
          <li key={disk.diskId}>
            <strong>{disk.label}</strong>
            {disk.current && (
              <>
                {' '}
                <Badge tone="ok">in</Badge>
              </>
            )}
            : {plural(disk.snapshots, 'snapshot')}
            {disk.lastBackupAt && <span class="muted">, the newest {timeAgo(disk.lastBackupAt)}</span>}
          </li>
        ))}
      </ul>
      {current && <p class="hint">Restores read from the disk that is in now ({current.label}). For a snapshot on another disk, plug that disk in first.</p>}
    </div>
  );
}
