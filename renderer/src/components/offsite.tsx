import { useState } from 'preact/hooks';
import type { AppState, OffsiteS3Input, SftpHostKey } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatBytes, parsePort, plural, timeAgo } from '../format.js';
import { Card, Confirm, ErrorText, Field, Meter, Toggle, useAction, WhyDisabled } from './ui.js';

type S3Form = { service: string; region: string; endpoint: string; bucket: string; folder: string; accessKeyId: string; secretAccessKey: string };

const S3_SERVICES: { value: OffsiteS3Input['service']; label: string; region: string }[] = [
  { value: 'b2', label: 'Backblaze B2', region: 'us-west-004' },
  { value: 'wasabi', label: 'Wasabi', region: 'eu-central-1' },
  { value: 'aws', label: 'Amazon S3', region: 'eu-west-3' },
  { value: 'other', label: 'Another S3-compatible service (MinIO and others)', region: '' },
];

/** The S3 form's own fields: which service, where in it, and the key the copy uses. */
function S3Fields({ s3, onInput }: { s3: S3Form; onInput: (s3: S3Form) => void }) {
  const set = (field: keyof S3Form) => (value: string) => onInput({ ...s3, [field]: value });
  const service = S3_SERVICES.find((one) => one.value === s3.service);
  return (
    <>
      <label for="s3-service">Service</label>
      <select id="s3-service" value={s3.service} onChange={(event) => set('service')((event.target as HTMLSelectElement).value)}>
        {S3_SERVICES.map((one) => (
          <option value={one.value}>{one.label}</option>
        ))}
      </select>
      {s3.service === 'other' ? (
        <Field id="s3-endpoint" label="The service’s address" value={s3.endpoint} onInput={set('endpoint')} placeholder="https://minio.example.net:9000" />
      ) : (
        <Field id="s3-region" label="Region" value={s3.region} onInput={set('region')} placeholder={service?.region} narrow hint="As the bucket’s page on the service shows it." />
      )}
      <Field id="s3-bucket" label="Bucket" value={s3.bucket} onInput={set('bucket')} hint="Create it on the service first; a bucket of its own for this copy is best." />
      <Field id="s3-folder" label="Folder in the bucket (may be empty)" value={s3.folder} onInput={set('folder')} />
      <Field id="s3-key-id" label="Key ID" value={s3.accessKeyId} onInput={set('accessKeyId')} />
      <Field
        id="s3-secret"
        label="Secret key"
        secret
        value={s3.secretAccessKey}
        onInput={set('secretAccessKey')}
        hint="Kept in rclone’s configuration in this app’s settings folder, readable only by you; rclone keeps it as written, not encrypted. Make the copy a key of its own that can reach only this bucket."
      />
    </>
  );
}

/** The S3 form as the app's method takes it: only the fields the service needs. */
function s3Input(s3: S3Form): OffsiteS3Input {
  const service = s3.service as OffsiteS3Input['service'];
  return {
    service,
    ...(service === 'other' ? { endpoint: s3.endpoint.trim() } : { region: s3.region.trim() }),
    bucket: s3.bucket.trim(),
    ...(s3.folder.trim() ? { folder: s3.folder.trim() } : {}),
    accessKeyId: s3.accessKeyId.trim(),
    secretAccessKey: s3.secretAccessKey.trim(),
  };
}

/** Where the copy goes: a computer over SSH, S3 cloud storage, or a folder or rclone remote; tested by the app before it is kept. */
function TargetForm({ onDone }: { onDone: () => void }) {
  const [kind, setKind] = useState<'sftp' | 's3' | 'remote'>('sftp');
  const [s3, setS3] = useState<S3Form>({ service: 'b2', region: '', endpoint: '', bucket: '', folder: 'restic-copy', accessKeyId: '', secretAccessKey: '' });
  const [remote, setRemote] = useState('');
  const [rcloneConfig, setRcloneConfig] = useState('');
  const [host, setHost] = useState('');
  const [port, setPort] = useState('22');
  const [user, setUser] = useState('');
  const [login, setLogin] = useState<'password' | 'key'>('password');
  const [secret, setSecret] = useState('');
  const [folder, setFolder] = useState('restic-copy');
  const [bandwidth, setBandwidth] = useState('');
  const [nightOnly, setNightOnly] = useState(false);
  const [warnAfter, setWarnAfter] = useState('7');
  /** The SFTP server's key, shown and waiting for the user to trust it (as ssh asks on a first connection). */
  const [hostKey, setHostKey] = useState<SftpHostKey | null>(null);
  const action = useAction();
  const limit = bandwidth.trim() || null;
  const when = () => ({ nightOnly, warnAfterDays: Number(warnAfter) });
  const submit = () =>
    action.run(async () => {
      if (kind === 'remote') {
        await api.setOffsite({ remote: remote.trim(), bandwidth: limit, rcloneConfig: rcloneConfig.trim() || null, ...when() });
      } else if (kind === 's3') {
        await api.setOffsiteS3({ ...s3Input(s3), bandwidth: limit, ...when() });
      } else {
        setHostKey(await api.sftpHostKey({ host: host.trim(), port: parsePort(port) }));
        return;
      }
      onDone();
    });
  /** Saves the SFTP target with the key the user trusted: the app refuses it if the server shows another one by now. */
  const trust = (key: SftpHostKey) => {
    setHostKey(null);
    void action.run(async () => {
      await api.setOffsiteSftp({
        host: key.host,
        port: key.port,
        hostKeyFingerprint: key.fingerprint,
        user: user.trim(),
        ...(login === 'password' ? { password: secret } : { keyFile: secret.trim() }),
        folder: folder.trim(),
        bandwidth: limit,
        ...when(),
      });
      onDone();
    });
  };
  // A key shown for another computer than the one now typed is no answer to anything.
  const shownKey = hostKey && hostKey.host === host.trim() && String(hostKey.port) === port.trim() ? hostKey : null;
  const ready =
    kind === 'remote'
      ? remote.trim() !== ''
      : kind === 's3'
        ? (s3.service === 'other' ? s3.endpoint : s3.region).trim() !== '' && s3.bucket.trim() !== '' && s3.accessKeyId.trim() !== '' && s3.secretAccessKey.trim() !== ''
        : host.trim() !== '' && user.trim() !== '' && secret !== '' && folder.trim() !== '';
  return (
    <form
      class="stack"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <div class="tabs" role="radiogroup" aria-label="Kind of place">
        <button type="button" role="radio" aria-checked={kind === 'sftp'} class={`tab ${kind === 'sftp' ? 'active' : ''}`} onClick={() => setKind('sftp')}>
          A computer over SSH (SFTP)
        </button>
        <button type="button" role="radio" aria-checked={kind === 's3'} class={`tab ${kind === 's3' ? 'active' : ''}`} onClick={() => setKind('s3')}>
          Cloud storage (S3)
        </button>
        <button type="button" role="radio" aria-checked={kind === 'remote'} class={`tab ${kind === 'remote' ? 'active' : ''}`} onClick={() => setKind('remote')}>
          A folder, or a remote of rclone
        </button>
      </div>
      {kind === 'sftp' ? (
        <>
          <Field id="sftp-host" label="Computer (host name or address)" value={host} onInput={setHost} placeholder="grandma.example.net" hint="A relative’s or friend’s computer that runs an SSH server, reachable from here." />
          <Field id="sftp-port" label="Port" value={port} onInput={setPort} narrow />
          <Field id="sftp-user" label="User there" value={user} onInput={setUser} />
          <div class="tabs" role="radiogroup" aria-label="How to log in">
            <button type="button" role="radio" aria-checked={login === 'password'} class={`tab ${login === 'password' ? 'active' : ''}`} onClick={() => setLogin('password')}>
              Password
            </button>
            <button type="button" role="radio" aria-checked={login === 'key'} class={`tab ${login === 'key' ? 'active' : ''}`} onClick={() => setLogin('key')}>
              Key file
            </button>
          </div>
          {login === 'password' ? (
            <Field id="sftp-password" label="Password there" secret value={secret} onInput={setSecret} hint="Kept in rclone’s configuration in this app’s settings folder, readable only by you: obscured, which is not encryption." />
          ) : (
            <Field id="sftp-key" label="Private key file on this computer (full path)" value={secret} onInput={setSecret} placeholder="/home/you/.ssh/id_ed25519" />
          )}
          <Field id="sftp-folder" label="Folder there" value={folder} onInput={setFolder} hint="Relative to the user’s home folder, or a full path." />
        </>
      ) : kind === 's3' ? (
        <S3Fields s3={s3} onInput={setS3} />
      ) : (
        <>
          <Field
            id="offsite-remote"
            label="Where the copy goes"
            value={remote}
            onInput={setRemote}
            placeholder="/media/other-disk/backups or b2:family-backups"
            hint="A folder on another disk or a network folder (its full path), or a remote of rclone and a folder there, written name:folder (cloud storage: set it up with rclone config)."
          />
          <Field id="offsite-config" label="rclone configuration file (only for a remote of your own)" value={rcloneConfig} onInput={setRcloneConfig} placeholder="/home/you/.config/rclone/rclone.conf" />
        </>
      )}
      <Field id="offsite-bandwidth" label="Speed limit (leave empty for none)" value={bandwidth} onInput={setBandwidth} placeholder="2M" narrow hint="Bytes per second: 2M is 2 MB/s, 500K 500 KB/s. Useful on a slow internet line." />
      <Toggle checked={nightOnly} onChange={setNightOnly} label="Copy only at night" hint="Copies that start by themselves wait for 22:00 to 06:00 (Copy now works at any time)." />
      <Field id="offsite-warn" label="Warn when the copy is older than (days)" value={warnAfter} onInput={setWarnAfter} narrow />
      <div class="button-row">
        <button type="submit" class="button primary" disabled={action.busy || !ready || shownKey !== null}>
          {action.busy ? 'Testing…' : 'Test and use'}
        </button>
      </div>
      {kind === 'sftp' && shownKey && (
        <Confirm id="host-key" question="Trust this key?" yes="Yes, trust this key" no="No, do not use it" onNo={() => setHostKey(null)} onYes={() => trust(shownKey)}>
          The SFTP server at {shownKey.host}:{shownKey.port} identifies itself with key <code>{shownKey.fingerprint}</code> ({shownKey.keyType}). Check it with the server’s owner before you
          trust it: on that computer, <code>ssh-keygen -lf /etc/ssh/ssh_host_{shownKey.keyType.toLowerCase()}_key.pub</code> prints its key. If the two differ, something may stand between you
          and that computer: do not use it.
        </Confirm>
      )}
      <ErrorText error={action.error} />
    </form>
  );
}

/** The Storage screen's card: a copy of every backup elsewhere, so that they survive the house. */
export function OffsiteCard({ state }: { state: AppState }) {
  const { offsite } = state;
  const [editing, setEditing] = useState(false);
  const [confirmRebuild, setConfirmRebuild] = useState(false);
  const action = useAction();
  const serving = state.status === 'serving' || state.status === 'attention';
  const why = !serving
    ? 'The copy is made from the backup disk the server uses: start the server first.'
    : offsite.running
      ? offsite.running.rebuilding
        ? 'The backup disk is being rebuilt from the copy.'
        : 'A copy is running.'
      : null;
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
              <code>{offsite.target.where}</code>
            </dd>
            <dt>Last complete copy</dt>
            <dd>{timeAgo(offsite.lastCopyAt)}</dd>
            {offsite.target.bandwidth && (
              <>
                <dt>Speed limit</dt>
                <dd>{offsite.target.bandwidth}B/s</dd>
              </>
            )}
            <dt>When</dt>
            <dd>
              {offsite.target.nightOnly ? 'at night (22:00 to 06:00)' : 'once backups have settled'}, at least daily; a warning after {plural(offsite.target.warnAfterDays, 'day')} without a copy
            </dd>
            <dt>Deleted files</dt>
            <dd>stay on the copy {plural(offsite.target.graceDays, 'day')}</dd>
          </dl>
          {offsite.running && (
            <div role="status">
              <Meter used={offsite.running.totalBytes > 0 ? offsite.running.bytes / offsite.running.totalBytes : 0} label="Copied" />
              <p>
                {offsite.running.rebuilding ? 'Rebuilding the backup disk from the copy' : 'Copying'} {offsite.running.step}: {formatBytes(offsite.running.bytes)} of {formatBytes(offsite.running.totalBytes)}
                {offsite.running.bytesPerSecond > 0 && `, ${formatBytes(offsite.running.bytesPerSecond)}/s`}
                {offsite.running.secondsLeft !== null && offsite.running.secondsLeft > 0 && `, about ${plural(Math.ceil(offsite.running.secondsLeft / 60), 'minute')} left`}.
              </p>
            </div>
          )}
          {offsite.problem && (
            <div class="warning" data-testid="offsite-problem">
              <p>{offsite.problem}</p>
              {offsite.problemDetails && (
                <details>
                  <summary>Details</summary>
                  <pre class="details-text">{offsite.problemDetails}</pre>
                </details>
              )}
            </div>
          )}
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
            <button type="button" class="button" disabled={why !== null} onClick={() => setConfirmRebuild(true)}>
              Rebuild the backup disk from the copy…
            </button>
          </div>
          {confirmRebuild && (
            <Confirm
              id="rebuild"
              question="Fill the backup disk in use from the offsite copy?"
              yes="Yes, rebuild"
              no="Not now"
              busy={action.busy}
              onNo={() => setConfirmRebuild(false)}
              onYes={() =>
                void action.run(async () => {
                  await api.rebuildFromCopy();
                  setConfirmRebuild(false);
                })
              }
            >
              For a new disk after the old one died: every backup the copy holds is copied onto the disk in use, nothing there is overwritten, and an integrity check follows. Computers can keep backing up meanwhile.
            </Confirm>
          )}
          <WhyDisabled id="offsite-why" reason={why} />
          <ErrorText error={action.error} />
        </>
      ) : (
        <TargetForm onDone={() => setEditing(false)} />
      )}
    </Card>
  );
}
