import { useState } from 'preact/hooks';
import type { AppState } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes, plural, timeAgo } from '../format.js';
import { Card, ErrorText, Meter, useAction, WhyDisabled } from './ui.js';

/** Where the copy goes: asked in a form, tested by the app before it is kept. */
function TargetForm({ onDone }: { onDone: () => void }) {
  const [remote, setRemote] = useState('');
  const [bandwidth, setBandwidth] = useState('');
  const [rcloneConfig, setRcloneConfig] = useState('');
  const action = useAction();
  return (
    <form
      class="stack"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          await api.setOffsite({ remote: remote.trim(), bandwidth: bandwidth.trim() || null, rcloneConfig: rcloneConfig.trim() || null });
          onDone();
        });
      }}
    >
      <label for="offsite-remote">Where the copy goes</label>
      <input id="offsite-remote" value={remote} placeholder="/media/other-disk/backups or relative:backups" onInput={(event) => setRemote((event.target as HTMLInputElement).value)} aria-describedby="offsite-remote-hint" />
      <p class="hint" id="offsite-remote-hint">
        A folder on another disk or a network folder (its full path), or a remote from rclone’s configuration and a folder there, written <code>name:folder</code> (a relative’s computer over SFTP, cloud storage: set it up with <code>rclone config</code>).
      </p>
      <label for="offsite-config">rclone configuration file (only for a remote of your own)</label>
      <input id="offsite-config" value={rcloneConfig} placeholder="~/.config/rclone/rclone.conf, as a full path" onInput={(event) => setRcloneConfig((event.target as HTMLInputElement).value)} />
      <label for="offsite-bandwidth">Speed limit (leave empty for none)</label>
      <input id="offsite-bandwidth" class="narrow" value={bandwidth} placeholder="2M" onInput={(event) => setBandwidth((event.target as HTMLInputElement).value)} aria-describedby="offsite-bandwidth-hint" />
      <p class="hint" id="offsite-bandwidth-hint">
        Bytes per second: <code>2M</code> is 2 MB/s, <code>500K</code> 500 KB/s. Useful on a slow internet line.
      </p>
      <div class="button-row">
        <button type="submit" class="button primary" disabled={action.busy || remote.trim() === ''}>
          {action.busy ? 'Testing…' : 'Test and use'}
        </button>
      </div>
      <ErrorText error={action.error} />
    </form>
  );
}

/** The Storage screen's card: a copy of every backup elsewhere, so that they survive the house. */
export function OffsiteCard({ state }: { state: AppState }) {
  const { offsite } = state;
  const [editing, setEditing] = useState(false);
  const action = useAction();
  const serving = state.status === 'serving' || state.status === 'attention';
  const why = !serving ? 'The copy is made from the backup disk the server uses: start the server first.' : offsite.running ? 'A copy is running.' : null;
  return (
    <Card title="Offsite copy">
      <p class="why">
        A fire, a theft or a power surge takes the computers and the backup disk together. A copy elsewhere (a relative’s computer, cloud storage, a disk kept at work) survives them. It holds only encrypted backups: it needs no password, and whoever keeps it sees nothing of your files.
      </p>
      {offsite.rclone === null ? (
        <p class="warning">The copy is made by rclone, which is not installed on this computer. {offsite.installHint}</p>
      ) : offsite.target && !editing ? (
        <>
          <dl class="facts">
            <dt>Copy to</dt>
            <dd>
              <code>{offsite.target.remote}</code>
            </dd>
            <dt>Last complete copy</dt>
            <dd>{timeAgo(offsite.lastCopyAt)}</dd>
            {offsite.target.bandwidth && (
              <>
                <dt>Speed limit</dt>
                <dd>{offsite.target.bandwidth}B/s</dd>
              </>
            )}
          </dl>
          {offsite.running && (
            <div role="status">
              <Meter used={offsite.running.totalBytes > 0 ? offsite.running.bytes / offsite.running.totalBytes : 0} label="Copied" />
              <p>
                Copying {offsite.running.step}: {formatBytes(offsite.running.bytes)} of {formatBytes(offsite.running.totalBytes)}
                {offsite.running.bytesPerSecond > 0 && `, ${formatBytes(offsite.running.bytesPerSecond)}/s`}
                {offsite.running.secondsLeft !== null && offsite.running.secondsLeft > 0 && `, about ${plural(Math.ceil(offsite.running.secondsLeft / 60), 'minute')} left`}.
              </p>
            </div>
          )}
          {offsite.problem && <p class="warning">{offsite.problem}</p>}
          <p class="hint">Copies start by themselves once backups have settled, and at least daily. Files deleted on the backup disk stay on the copy.</p>
          <div class="button-row">
            <button type="button" class="button" disabled={why !== null || action.busy} aria-describedby="offsite-why" onClick={() => void action.run(() => api.copyOffsiteNow())}>
              Copy now
            </button>
            <button type="button" class="button" onClick={() => setEditing(true)}>
              Change…
            </button>
            <button type="button" class="button" onClick={() => void action.run(() => api.removeOffsite())}>
              Stop copying
            </button>
          </div>
          <WhyDisabled id="offsite-why" reason={why} />
          <ErrorText error={action.error} />
        </>
      ) : (
        <TargetForm onDone={() => setEditing(false)} />
      )}
    </Card>
  );
}
