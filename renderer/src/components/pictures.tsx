import type { AppState, BackupDay, ComputerOverview, StorageView } from '../../../main/contract.js';
import { formatBytes, formatDay, plural, timeAgo } from '../format.js';
import { hashOf } from '../place.js';
import { Card, Dot } from './ui.js';

/** "Backups on 12 of the last 30 days", or of the days since the computer was added. */
export function daysInWords(days: BackupDay[]): string {
  const known = days.filter((day) => day.arrived !== null);
  const arrived = known.filter((day) => day.arrived).length;
  return known.length === days.length
    ? `Backups on ${arrived} of the last ${days.length} days`
    : `Backups on ${arrived} of the ${plural(known.length, 'day')} since it was added`;
}

const dayTitle = (day: BackupDay): string => `${formatDay(`${day.day}T12:00:00`)}: ${day.arrived ? 'backed up' : day.arrived === false ? 'no backup' : 'not added yet'}`;

/** One computer's last 30 days: a filled mark for each day a backup arrived, an empty one for each day without. */
function DayStrip({ computer }: { computer: ComputerOverview }) {
  const words = daysInWords(computer.lastDays);
  return (
    <li class="days-row" data-testid={`days-${computer.username}`}>
      <a href={hashOf('computers', computer.username)} class="days-name">
        {computer.displayName}
      </a>
      <span class="days" role="img" aria-label={`${computer.displayName}: ${words}.`}>
        {computer.lastDays.map((day) => (
          <span key={day.day} class={`day ${day.arrived ? 'day-backup' : day.arrived === false ? 'day-missed' : 'day-before'}`} title={dayTitle(day)} />
        ))}
      </span>
      <span class="muted days-count" aria-hidden="true">
        {computer.lastDays.filter((day) => day.arrived).length} of {plural(computer.lastDays.filter((day) => day.arrived !== null).length, 'day')}
      </span>
    </li>
  );
}

/** Every computer's last 30 days, one strip each. */
export function BackupDays({ state }: { state: AppState }) {
  if (state.computers.length === 0) return null;
  return (
    <Card title="The last 30 days">
      <ul class="days-list">
        {state.computers.map((computer) => (
          <DayStrip computer={computer} key={computer.username} />
        ))}
      </ul>
      <div class="days-row muted" aria-hidden="true">
        <span />
        <span class="days-scale">
          <span>30 days ago</span>
          <span>today</span>
        </span>
      </div>
    </Card>
  );
}

const WIDTH = 300;
const HEIGHT = 60;

/** The disk's use over the days measured, against its size: an area that reaches the top when the disk is full. */
export function UsageChart({ storage }: { storage: StorageView }) {
  const samples = storage.usage;
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || first === last || storage.totalBytes <= 0) return null;
  const start = Date.parse(first.day);
  const span = Date.parse(last.day) - start;
  const x = (day: string) => ((Date.parse(day) - start) / span) * WIDTH;
  const y = (bytes: number) => HEIGHT - Math.min(1, bytes / storage.totalBytes) * HEIGHT;
  const line = samples.map((sample) => `${x(sample.day).toFixed(1)},${y(sample.usedBytes).toFixed(1)}`).join(' ');
  const days = Math.round(span / 86_400_000);
  const words = `Disk use over the last ${plural(days, 'day')}: ${formatBytes(first.usedBytes)} used on ${formatDay(`${first.day}T12:00:00`)}, ${formatBytes(last.usedBytes)} now, of ${formatBytes(storage.totalBytes)}.`;
  return (
    <figure class="usage-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={words} data-testid="disk-usage-chart">
        <polygon class="usage-area" points={`0,${HEIGHT} ${line} ${WIDTH},${HEIGHT}`} />
        <polyline class="usage-line" points={line} />
      </svg>
      <figcaption class="muted" aria-hidden="true">
        <span>{plural(days, 'day')} ago</span>
        <span>today</span>
      </figcaption>
    </figure>
  );
}

/** The offsite copy's age and the last integrity check of the disk in use, one line each. */
export function CopyAndCheck({ state }: { state: AppState }) {
  const { offsite, integrity } = state;
  const current = state.disks.find((disk) => disk.current);
  const check = integrity.disks.find((disk) => disk.diskId === current?.id);
  const target = offsite.target;
  const old = target && offsite.lastCopyAt !== null && Date.now() - Date.parse(offsite.lastCopyAt) > target.warnAfterDays * 86_400_000;
  const copy = !target
    ? { colour: 'grey' as const, text: 'Offsite copy: none yet. Set one up in Storage, so the backups outlive a fire or a theft.' }
    : {
        colour: offsite.problem || old ? ('yellow' as const) : offsite.lastCopyAt ? ('green' as const) : ('grey' as const),
        text: `Offsite copy to ${target.where}: ${offsite.lastCopyAt ? `the last complete copy was ${timeAgo(offsite.lastCopyAt)}` : 'no complete copy yet'}${offsite.problem ? '; the last try did not work (see Storage)' : ''}.`,
      };
  const checked = integrity.running
    ? { colour: 'grey' as const, text: 'Integrity check: running now.' }
    : check?.lastCheckedAt
      ? {
          colour: check.damaged ? ('yellow' as const) : ('green' as const),
          text: `Integrity check: the last full check was ${timeAgo(check.lastCheckedAt)}, ${check.damaged ? `${plural(check.damaged, 'damaged file')} found` : 'nothing damaged'}.`,
        }
      : { colour: 'grey' as const, text: 'Integrity check: not done yet; it runs by itself when no computer is backing up.' };
  return (
    <Card title="Copy and check">
      <ul class="lines">
        <li data-testid="offsite-line">
          <Dot colour={copy.colour} />
          <span>{copy.text}</span>
        </li>
        <li data-testid="integrity-line">
          <Dot colour={checked.colour} />
          <span>{checked.text}</span>
        </li>
      </ul>
    </Card>
  );
}
