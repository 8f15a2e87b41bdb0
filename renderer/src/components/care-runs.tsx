import type { ComputerCare, ComputerOverview } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes, formatDay, formatTime, plural } from '../format.js';
import { ErrorText, useAction } from './ui.js';

const when = (iso: string) => `${formatDay(iso)} ${formatTime(iso)}`;

/** What the desktop does by itself for a computer whose password it keeps: the weekly removal of old backups, the monthly check, the repair after damage. */
export function CareRuns({ computer, care, kept }: { computer: ComputerOverview; care: ComputerCare; kept: boolean }) {
  const action = useAction();
  const name = computer.displayName;
  const { lastRetention, lastCheck, repair } = care;
  if (!kept) {
    return (
      <section aria-labelledby="care-runs-title">
        <h4 id="care-runs-title">What the desktop does by itself</h4>
        <p class="muted">Once the encryption password is kept, the desktop removes {name}’s old backups every week and checks them every month, by itself.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="care-runs-title">
      <h4 id="care-runs-title">What the desktop does by itself</h4>
      {care.running && (
        <p role="status" class="warn-text">
          {care.running === 'retention' ? `Removing ${name}’s old backups now…` : care.running === 'check' ? `Checking ${name}’s backups now…` : `Repairing ${name}’s backups now…`}
        </p>
      )}
      <p>
        <strong>Every week</strong> the old backups are removed and their space freed, once {name}’s daily backup has arrived and it has sent nothing for 15 minutes; never while the offsite copy runs.
        {lastRetention === null ? ` The first time comes after ${name}’s next backup.` : care.retentionDueAt && ` Next time: from ${when(care.retentionDueAt)}.`}
      </p>
      {lastRetention &&
        (lastRetention.ok ? (
          <p class="ok-text">
            Last time, {when(lastRetention.at)}: {plural(lastRetention.removed, 'old backup')} removed, {formatBytes(lastRetention.freedBytes)} freed.
          </p>
        ) : (
          <p class="warn-text">
            Last time, {when(lastRetention.at)}, it did not work: {lastRetention.problem}. It is tried again within the hour.
          </p>
        ))}
      <p class="hint">
        If {name} starts a backup while old ones are being removed, restic keeps the backups locked: that backup stops at once, saying the repository is locked, and {name}’s next scheduled
        backup works. Nothing is lost.
      </p>
      <p>
        <strong>Every month</strong> restic checks the backups and reads a twelfth of their data, a different one each month, so that all of it is read within a year.
      </p>
      {lastCheck && (
        <p class={lastCheck.outcome === 'ok' ? 'ok-text' : 'warn-text'}>
          {lastCheck.outcome === 'ok'
            ? `Last check, ${when(lastCheck.at)} (part ${lastCheck.subset}): nothing wrong.`
            : lastCheck.outcome === 'damaged'
              ? `Last check, ${when(lastCheck.at)} (part ${lastCheck.subset}): ${lastCheck.problem}.`
              : `Last check, ${when(lastCheck.at)}, could not run: ${lastCheck.problem}. It is tried again within the hour.`}
        </p>
      )}
      <button type="button" class="button" disabled={care.running !== null || action.busy} onClick={() => void action.run(() => api.checkBackups({ username: computer.username }))}>
        Check now
      </button>
      <ErrorText error={action.error} />
      {repair && (
        <div class="repair-note">
          <p>
            <strong>Repair.</strong>{' '}
            {repair.ok
              ? `On ${when(repair.at)} the integrity check found damaged files in ${name}’s backups, and the desktop repaired them at once (restic ${repair.steps.join(', then restic ')}).`
              : `On ${when(repair.at)} the integrity check found damaged files in ${name}’s backups; the desktop could not repair them: ${repair.problem}.`}
          </p>
          {repair.ok &&
            (repair.healedAt ? (
              <p class="ok-text">The backup of {when(repair.healedAt)} put back what the damaged files held.</p>
            ) : (
              <p class="warn-text">{name}’s next backup puts back what the damaged files held (restic may say it stores some files again: that is the repair).</p>
            ))}
        </div>
      )}
    </section>
  );
}
