import { useState } from 'preact/hooks';
import type { AppState, CaretakerView, ComputerOverview, IntegrityView, LoginCreated, StorageView } from '../../../main/contract.js';
import { api } from '../api.js';
import { CommandLines } from '../components/command-lines.js';
import { ConnectComputer } from '../components/connect.js';
import { RepairCard } from '../components/integrity.js';
import { LookingAfter } from '../components/looking-after.js';
import { Badge, Card, Confirm, ErrorText, PasswordOnce, Toggle, useAction, WhyDisabled } from '../components/ui.js';
import { formatBytes, parseGigabytes, plural, timeAgo } from '../format.js';

function AddComputer({ onAdded }: { onAdded: (login: LoginCreated) => void }) {
  const [name, setName] = useState('');
  const [appendOnly, setAppendOnly] = useState(true);
  const [quota, setQuota] = useState('');
  const action = useAction();
  const nameMissing = name.trim() === '' ? 'Type the computer’s name to add it.' : null;
  return (
    <Card title="Add a computer">
      <form
        class="stack"
        onSubmit={(event) => {
          event.preventDefault();
          const quotaBytes = parseGigabytes(quota);
          if (quotaBytes === 'invalid') return void action.run(() => Promise.reject(new Error('The quota is a number of gigabytes, such as 500, or empty for none.')));
          void action.run(async () => {
            onAdded(await api.addComputer({ displayName: name, appendOnly, quotaBytes }));
            setName('');
            setQuota('');
          });
        }}
      >
        <div class="field">
          <label for="add-name">Name</label>
          <input id="add-name" value={name} placeholder="Anna’s laptop" onInput={(event) => setName((event.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="add-quota">Quota in GB (empty: none)</label>
          <input id="add-quota" inputMode="decimal" value={quota} placeholder="500" onInput={(event) => setQuota((event.target as HTMLInputElement).value)} />
        </div>
        <Toggle checked={appendOnly} onChange={setAppendOnly} label="Append-only" hint="It can add backups but never delete them." />
        <ErrorText error={action.error} />
        <button type="submit" class="button primary" disabled={nameMissing !== null || action.busy} aria-describedby="add-name-why">
          Add computer
        </button>
        <WhyDisabled id="add-name-why" reason={nameMissing} />
      </form>
    </Card>
  );
}

function ComputerDetail({
  computer,
  password,
  repair,
  maintenanceUser,
  caretaker,
  storage,
  onLogin,
  onClose,
  onRemoved,
}: {
  computer: ComputerOverview;
  password?: string;
  repair?: IntegrityView['awaitingRepair'][number];
  maintenanceUser: string | null;
  caretaker: CaretakerView;
  storage: StorageView | null;
  onLogin: (login: LoginCreated) => void;
  onClose: () => void;
  onRemoved: (message: string) => void;
}) {
  const [name, setName] = useState(computer.displayName);
  const [quota, setQuota] = useState(computer.quotaBytes === null ? '' : String(computer.quotaBytes / 1e9));
  const [confirm, setConfirm] = useState<'reset' | 'remove' | null>(null);
  const action = useAction();
  return (
    <Card title={computer.displayName} actions={<button type="button" class="button small" onClick={onClose}>Close</button>} class="detail">
      <p class="muted">
        Login <code>{computer.username}</code> · repository <code>{computer.repoPath}</code> · last backup {timeAgo(computer.lastBackupAt)} · {formatBytes(computer.sizeBytes ?? 0)} in {plural(computer.snapshots, 'snapshot')}
      </p>
      {computer.scheduled === false && (
        <p class="warning">
          Not scheduled: {computer.displayName} backs up only when run by hand (its set-up found no scheduler there). Run <code>restic-tray-backup backup</code> on that computer now and
          then, or install cron there and connect it again.
        </p>
      )}
      <ConnectComputer computer={computer} />
      <div class="settings-grid">
        <form
          class="row-form"
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(() => api.renameComputer({ username: computer.username, displayName: name }));
          }}
        >
          <label for="rename">Name</label>
          <input id="rename" value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} />
          <button type="submit" class="button small" disabled={name.trim() === '' || name === computer.displayName}>
            Rename
          </button>
        </form>
        <form
          class="row-form"
          onSubmit={(event) => {
            event.preventDefault();
            const quotaBytes = parseGigabytes(quota);
            if (quotaBytes === 'invalid') return void action.run(() => Promise.reject(new Error('The quota is a number of gigabytes, such as 500, or empty for none.')));
            void action.run(() => api.updateComputer({ username: computer.username, quotaBytes }));
          }}
        >
          <label for="quota">Quota in GB</label>
          <input id="quota" inputMode="decimal" value={quota} placeholder="none" onInput={(event) => setQuota((event.target as HTMLInputElement).value)} />
          <button type="submit" class="button small">
            Set quota
          </button>
        </form>
        <Toggle
          checked={computer.appendOnly}
          onChange={(appendOnly) => action.run(() => api.updateComputer({ username: computer.username, appendOnly }))}
          label="Append-only"
          hint="It can add backups but never delete them (restic forget and prune are refused)."
        />
      </div>
      {confirm === 'reset' ? (
        <Confirm
          id="reset"
          question={`Give ${computer.displayName} a new password?`}
          yes="Yes, new password"
          no="Keep the password"
          busy={action.busy}
          onNo={() => setConfirm(null)}
          onYes={() =>
            void action.run(async () => {
              onLogin(await api.resetPassword({ username: computer.username }));
              setConfirm(null);
            })
          }
        >
          The old one stops working at once: {computer.displayName} cannot back up until its new set-up line is pasted there.
        </Confirm>
      ) : confirm === 'remove' ? (
        <Confirm
          id="remove"
          question={`Remove ${computer.displayName}?`}
          yes="Yes, remove"
          no="Keep"
          busy={action.busy}
          onNo={() => setConfirm(null)}
          onYes={() =>
            void action.run(async () => {
              await api.removeComputer({ username: computer.username });
              onRemoved(`${computer.displayName} was removed. Its backups stay on the disk in ${computer.repoPath}.`);
            })
          }
        >
          Its login stops working; its backups stay on the disk in <code>{computer.repoPath}</code>.
        </Confirm>
      ) : (
        <div class="button-row">
          <button type="button" class="button" onClick={() => setConfirm('reset')}>
            Reset password…
          </button>
          <button type="button" class="button danger" onClick={() => setConfirm('remove')}>
            Remove…
          </button>
        </div>
      )}
      <ErrorText error={action.error} />
      <LookingAfter computer={computer} caretaker={caretaker} storage={storage} />
      {repair && <RepairCard computer={computer} repair={repair} maintenanceUser={maintenanceUser} />}
      {password ? (
        <details class="more">
          <summary>Or set it up by hand: its server login, shown once, and the commands to paste</summary>
          <PasswordOnce login={{ username: computer.username, password }} />
          <h3>Commands for {computer.displayName}</h3>
          <CommandLines username={computer.username} password={password} />
        </details>
      ) : (
        <>
          <h3>Commands for {computer.displayName}</h3>
          <CommandLines username={computer.username} />
        </>
      )}
    </Card>
  );
}

/** Add, change and remove computers; each one's commands per operating system. */
export function Computers({ state, passwords, onLogin, selected, onSelect }: { state: AppState; passwords: Map<string, string>; onLogin: (login: LoginCreated) => void; selected: string | null; onSelect: (username: string | null) => void }) {
  const computer = state.computers.find((candidate) => candidate.username === selected);
  /** What was just removed, said on the list until the next thing is done there. */
  const [removed, setRemoved] = useState<string | null>(null);
  const select = (username: string) => {
    setRemoved(null);
    onSelect(username);
  };
  return (
    <div class="screen">
      <h1>Computers</h1>
      {computer ? (
        <ComputerDetail
          computer={computer}
          password={passwords.get(computer.username)}
          repair={state.integrity.awaitingRepair.find((candidate) => candidate.repo === computer.username)}
          maintenanceUser={state.maintenanceUser}
          caretaker={state.caretaker}
          storage={state.storage}
          onLogin={onLogin}
          onClose={() => onSelect(null)}
          onRemoved={(message) => {
            setRemoved(message);
            onSelect(null);
          }}
          key={computer.username}
        />
      ) : (
        <>
          {removed && (
            <p class="ok-text" role="status">
              {removed}
            </p>
          )}
          <Card title="Family computers">
            {state.computers.length === 0 && <p class="muted">No computer yet.</p>}
            <ul class="computer-list">
              {state.computers.map((candidate) => (
                <li key={candidate.username}>
                  <button type="button" class="computer-item" onClick={() => select(candidate.username)}>
                    <span class="computer-name">{candidate.displayName}</span>
                    <span class="muted">last backup {timeAgo(candidate.lastBackupAt)}</span>
                    {candidate.appendOnly ? <Badge tone="ok">append-only</Badge> : <Badge tone="muted">may delete</Badge>}
                    {candidate.stale && <Badge tone="warn">stale</Badge>}
                    {state.integrity.awaitingRepair.some((repair) => repair.repo === candidate.username) && <Badge tone="bad">repair needed</Badge>}
                    {passwords.has(candidate.username) && <Badge tone="warn">new password</Badge>}
                  </button>
                </li>
              ))}
            </ul>
          </Card>
          <AddComputer
            onAdded={(login) => {
              onLogin(login);
              select(login.username);
            }}
          />
        </>
      )}
    </div>
  );
}
