import type { AppState } from '../../../main/contract.js';
import { api } from '../api.js';
import { RotatingDisks } from '../components/rotating-disks.js';
import { BackupDays, CopyAndCheck, UsageChart } from '../components/pictures.js';
import { Badge, Card, CopyButton, Dot, ErrorText, Meter, useAction } from '../components/ui.js';
import { formatBytes, timeAgo } from '../format.js';
import { hashOf } from '../place.js';

export function StatusCard({ state }: { state: AppState }) {
  const action = useAction();
  const running = state.status !== 'stopped' && state.status !== 'error';
  return (
    <section class={`status status-${state.colour}`} aria-live="polite">
      <div class="status-main">
        <Dot colour={state.colour} />
        <p class="status-sentence" data-testid="status-sentence">
          {state.sentence}
        </p>
        <button
          type="button"
          class={`button ${running ? '' : 'primary'}`}
          disabled={action.busy || state.status === 'starting'}
          onClick={() => void action.run(() => (running ? api.stopServer() : api.startServer()))}
        >
          {running ? 'Stop' : 'Start'}
        </button>
      </div>
      {state.reasons.length > 1 && (
        <ul class="reasons">
          {state.reasons.map((reason) => (
            <li key={reason.key} class={reason.severity}>
              {reason.message}
            </li>
          ))}
        </ul>
      )}
      <NotConnectedYet state={state} />
      {state.clientUrl && (
        <p class="status-address">
          Computers connect to <code>{state.clientUrl}</code> <CopyButton text={state.clientUrl} label="Copy address" />
        </p>
      )}
      <ErrorText error={action.error} />
    </section>
  );
}

/** The computers that never backed up, each a link to its page, where the line that connects it is made. */
function NotConnectedYet({ state }: { state: AppState }) {
  const waiting = state.computers.filter((computer) => computer.lastBackupAt === null);
  if (waiting.length === 0 || (state.status !== 'serving' && state.status !== 'attention')) return null;
  return (
    <p class="not-connected" data-testid="not-connected">
      Not connected yet:{' '}
      {waiting.map((computer, index) => (
        <span key={computer.username}>
          {index > 0 && ', '}
          <a href={hashOf('computers', computer.username)}>{computer.displayName}</a>
        </span>
      ))}
      . Open a computer’s page to connect it.
    </p>
  );
}

export function Notices({ state }: { state: AppState }) {
  if (state.notices.length === 0) return null;
  return (
    <div class="notices">
      {state.notices.map((notice) => (
        <div class="notice" role="alert" key={notice.id}>
          <p>{notice.message}</p>
          <button type="button" class="button small" onClick={() => void api.dismissNotice({ id: notice.id })}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

function DiskCard({ state }: { state: AppState }) {
  const storage = state.storage;
  if (!storage) {
    const current = state.disks.find((disk) => disk.current);
    return (
      <Card title="Backup disk">
        <p class="muted">{current ? `“${current.label}” is not connected (${current.folder}).` : 'No backup folder is chosen yet.'}</p>
      </Card>
    );
  }
  const used = storage.totalBytes > 0 ? 1 - storage.freeBytes / storage.totalBytes : 0;
  return (
    <Card title={`Backup disk: ${storage.label}`}>
      <Meter used={used} label="Disk used" />
      <p class="meter-caption">
        <strong>{formatBytes(storage.freeBytes)} free</strong> of {formatBytes(storage.totalBytes)} · {Math.round(used * 100)}% used
        {storage.fileSystem && <span class="muted"> · {storage.fileSystem}</span>}
      </p>
      <UsageChart storage={storage} />
      {storage.trend && (
        <p data-testid="disk-trend">
          {storage.trend}
        </p>
      )}
      {storage.warnings.map((warning) => (
        <p class={storage.inMemory ? 'error' : 'warning'} key={warning}>
          {storage.inMemory ? <strong>{warning}</strong> : warning}
        </p>
      ))}
    </Card>
  );
}

export function ComputerRows({ state }: { state: AppState }) {
  if (state.computers.length === 0) return <p class="muted">No computer yet. Add one in Computers.</p>;
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">Computer</th>
          <th scope="col">Last backup</th>
          <th scope="col">Size</th>
          <th scope="col">Snapshots</th>
          <th scope="col">Quota</th>
        </tr>
      </thead>
      <tbody>
        {state.computers.map((computer) => (
          <tr key={computer.username} data-testid={`computer-${computer.username}`}>
            <th scope="row">
              <a href={hashOf('computers', computer.username)}>{computer.displayName}</a>
              {computer.stale && <Badge tone="warn">stale</Badge>}
              {computer.locks > 0 && <Badge tone="muted">in use</Badge>}
              {computer.scheduled === false && (
                <span class="warn-text" title="Run restic-tray-backup backup on that computer now and then, or install cron there and connect it again.">
                  {' '}
                  not scheduled: backs up only when run by hand
                </span>
              )}
            </th>
            <td class={computer.stale ? 'warn-text' : ''} title={computer.lastBackupAt ?? undefined}>
              {timeAgo(computer.lastBackupAt)}
            </td>
            <td>{computer.sizeBytes === null ? <span class="muted">not set up</span> : formatBytes(computer.sizeBytes)}</td>
            <td>{computer.snapshots}</td>
            <td>
              {computer.quotaBytes === null ? (
                <span class="muted">none</span>
              ) : (
                <span class="quota">
                  <Meter used={(computer.sizeBytes ?? 0) / computer.quotaBytes} label={`Quota of ${computer.displayName}`} />
                  {formatBytes(computer.sizeBytes ?? 0)} of {formatBytes(computer.quotaBytes)}
                </span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Dashboard({ state }: { state: AppState }) {
  return (
    <div class="screen">
      <h1>Dashboard</h1>
      <Notices state={state} />
      <StatusCard state={state} />
      <div class="grid">
        <DiskCard state={state} />
        <CopyAndCheck state={state} />
        <RotatingDisks state={state} />
      </div>
      <Card title="Computers">
        <ComputerRows state={state} />
      </Card>
      <BackupDays state={state} />
    </div>
  );
}
