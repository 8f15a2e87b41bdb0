import type { AppState, ComputerOverview, Damage, IntegrityView } from '../../../main/contract.js';
import { api } from '../api.js';
import { hashOf } from '../place.js';
import { formatBytes, formatDay, formatTime, plural, timeAgo } from '../format.js';
import { CommandLines } from './command-lines.js';
import { RepairLine } from './repair-line.js';
import { Badge, Card, ErrorText, useAction, WhyDisabled } from './ui.js';

type Repair = IntegrityView['awaitingRepair'][number];

const DAMAGE: Record<Damage, string> = {
  changed: 'changed',
  truncated: 'cut off',
  empty: 'empty',
  unreadable: 'unreadable',
  misnamed: 'misnamed',
};

function Findings({ repair }: { repair: Repair }) {
  return (
    <ul class="findings">
      {repair.findings.map((finding) => (
        <li key={finding.file}>
          <code>{finding.file}</code> <Badge tone="bad">{DAMAGE[finding.damage]}</Badge>
          <span class="muted"> · found {timeAgo(finding.foundAt)}</span>
          <br />
          <span>{finding.detail}</span>
          {finding.quarantined && (
            <span class="muted">
              {' '}
              Moved aside to <code>{finding.quarantined}</code>.
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The Storage screen's card: the checks of each disk, the one running, "Check now", and what awaits repair. */
export function IntegrityCard({ state }: { state: AppState }) {
  const action = useAction();
  const { integrity } = state;
  const current = state.disks.find((disk) => disk.current);
  const last = integrity.disks.find((disk) => disk.diskId === current?.id);
  const serving = state.status === 'serving' || state.status === 'attention';
  // A disk that is not plugged in cannot be read: its old figures would speak of a disk nobody can see now.
  const away = current !== undefined && state.storage === null;
  const why = !serving ? 'The check reads the disk the server uses: start the server with the disk plugged in.' : integrity.running ? 'A check is running.' : null;
  return (
    <Card title="Integrity">
      <p class="why">
        Every backup file is named by a fingerprint of its contents, so this app can find a damaged one without any password: it reads them all every {plural(integrity.everyDays, 'day')}, when no computer is backing up (Settings).
      </p>
      {away ? (
        <p data-testid="integrity-away">
          “{current.label}” is not plugged in;{' '}
          {last?.lastCheckedAt ? `its last full check was ${timeAgo(last.lastCheckedAt)}.` : 'it has not been checked yet.'} Plug it in to see what the checks found and to check it again.
        </p>
      ) : integrity.running ? (
        <p role="status">
          Checking now: {plural(integrity.running.objects, 'file')} ({formatBytes(integrity.running.bytes)}) read since {formatTime(integrity.running.startedAt)}
          {integrity.running.paced ? ', slowly while backups arrive.' : '.'}
        </p>
      ) : last?.lastCheckedAt ? (
        <p>
          Last full check of “{last.label}” {timeAgo(last.lastCheckedAt)}: {plural(last.objects ?? 0, 'file')} ({formatBytes(last.bytes)}),{' '}
          {last.damaged ? <strong>{plural(last.damaged, 'damaged file')}</strong> : 'nothing damaged'}.
          {integrity.nextCheckAt && <span class="muted"> Next check after {formatDay(integrity.nextCheckAt)}.</span>}
        </p>
      ) : (
        <p class="muted">{current ? `“${current.label}” has not been checked yet: the first check starts when no computer is backing up.` : 'No disk in use.'}</p>
      )}
      {!away && integrity.awaitingRepair.map((repair) => (
        <div class="warning" key={repair.repo}>
          <p>
            <strong>{repair.displayName ? `${repair.displayName}: repair needed` : `Repository /${repair.repo}/: repair needed`}</strong>{' '}
            {repair.username ? (
              <a href={hashOf('computers', repair.username)}>Open its page for the repair commands</a>
            ) : (
              'Repair it with restic from the computer that uses it (rebuild-index, backup, check --read-data).'
            )}
          </p>
          <Findings repair={repair} />
        </div>
      ))}
      <div class="button-row">
        <button type="button" class="button" disabled={why !== null || action.busy} aria-describedby="check-why" onClick={() => void action.run(() => api.checkIntegrity())}>
          Check now
        </button>
      </div>
      <WhyDisabled id="check-why" reason={why} />
      <ErrorText error={action.error} />
      {integrity.disks.filter((disk) => disk.diskId !== current?.id).length > 0 && (
        <ul class="disk-list">
          {integrity.disks
            .filter((disk) => disk.diskId !== current?.id)
            .map((disk) => (
              <li key={disk.diskId}>
                <strong>{disk.label}</strong>
                <span class="muted">
                  {' '}
                  · last checked {timeAgo(disk.lastCheckedAt)}
                  {disk.damaged ? ` · ${plural(disk.damaged, 'damaged file')}` : ''}
                </span>
              </li>
            ))}
        </ul>
      )}
    </Card>
  );
}

/**
 * On a computer's page while its backups have damaged files: what was found, the repair (one line for a
 * computer the set-up line connected, whose encryption password is not kept here; otherwise steps by hand), and "repaired".
 */
export function RepairCard({ computer, repair, maintenanceUser, kept }: { computer: ComputerOverview; repair: Repair; maintenanceUser: string | null; kept: boolean }) {
  const action = useAction();
  const viaMaintenance = computer.appendOnly;
  const byLine = computer.setUpBy === 'line' && !kept;
  return (
    <div class="warning repair">
      <h3>Damaged backup files: repair needed</h3>
      <p>
        The integrity check found damaged files in {computer.displayName}’s backups and moved them aside, so that new backups stop relying on them.
        {byLine ? '' : ` Run these steps on ${computer.displayName}: the backup step uploads again what was lost, where it is still on that computer.`}
      </p>
      <Findings repair={repair} />
      {byLine ? (
        <RepairLine computer={computer} />
      ) : viaMaintenance && !maintenanceUser ? (
        <p class="hint">
          {computer.displayName} is append-only, and the repair deletes old index files: create the maintenance login in Security, and its repair steps for {computer.displayName} appear here.
        </p>
      ) : (
        <>
          {viaMaintenance && <p class="hint">{computer.displayName} is append-only, so these steps use the maintenance login (its password is shown once in Security; reset it there if it is lost).</p>}
          <CommandLines username={viaMaintenance ? (maintenanceUser as string) : computer.username} repository={viaMaintenance ? computer.username : undefined} repair />
        </>
      )}
      <div class="button-row">
        <button type="button" class="button" disabled={action.busy} onClick={() => void action.run(() => api.markRepaired({ repo: repair.repo }))}>
          Repaired: the check said “no errors were found”
        </button>
      </div>
      <ErrorText error={action.error} />
    </div>
  );
}
