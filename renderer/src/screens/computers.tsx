import { useState } from 'preact/hooks';
import type { AppState, CaretakerView, ComputerOverview, IntegrityView, LoginCreated, StorageView } from '../../../main/contract.js';
import { api } from '../api.js';
import { CommandLines } from '../components/command-lines.js';
import { ConnectComputer } from '../components/connect.js';
import { ComputerDisks } from '../components/rotating-disks.js';
import { RepairCard } from '../components/integrity.js';
import { LookingAfter } from '../components/looking-after.js';
import { NewLaptop } from '../components/new-laptop.js';
import { RestoreSection } from '../components/restore.js';
import { Badge, Card, Confirm, ErrorText, PasswordOnce, Toggle, useAction, WhyDisabled } from '../components/ui.js';
import { formatBytes, parseGigabytes, timeAgo } from '../format.js';

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

const SYSTEM_NAMES: Record<NonNullable<ComputerOverview['system']>, string> = { linux: 'Linux', macos: 'macOS', windows: 'Windows' };

/** What a family member looks at first: is it backing up, how much, and how it was set up. */
function StatusFacts({ computer }: { computer: ComputerOverview }) {
  const name = computer.displayName;
  return (
    <>
      <dl class="facts" data-testid="computer-status">
        <dt>Last backup</dt>
        <dd class={computer.stale ? 'warn-text' : ''}>{timeAgo(computer.lastBackupAt)}</dd>
        <dt>Size</dt>
        <dd>
          {computer.sizeBytes === null ? 'nothing yet' : formatBytes(computer.sizeBytes)}
          {computer.quotaBytes !== null && ` of ${formatBytes(computer.quotaBytes)} allowed`}
        </dd>
        <dt>Snapshots</dt>
        <dd>{computer.snapshots}</dd>
        <dt>Connected</dt>
        <dd>
          {computer.connectedAt !== null
            ? `with its set-up line, ${timeAgo(computer.connectedAt)}`
            : computer.lastBackupAt !== null
              ? 'by hand (its commands were pasted there)'
              : 'not yet: make its line under Connect below'}
        </dd>
        <dt>System</dt>
        <dd>{computer.system ? SYSTEM_NAMES[computer.system] : <span class="muted">not known</span>}</dd>
        <dt>restic</dt>
        <dd>{computer.resticVersion ?? <span class="muted">not known</span>}</dd>
        <dt>Daily backup</dt>
        <dd>
          {computer.scheduled === true ? 'scheduled: it backs up by itself every day' : computer.scheduled === false ? 'not scheduled' : <span class="muted">not known</span>}
        </dd>
        <dt>On the backup disk</dt>
        <dd>
          <code>{computer.repoPath}</code> <span class="muted">(server login <code>{computer.username}</code>)</span>
        </dd>
      </dl>
      {computer.scheduled === false && (
        <p class="warning">
          Not scheduled: {name} backs up only when run by hand (its set-up found no scheduler there). Run <code>restic-tray-backup backup</code> on that computer now and then, or install cron
          there and connect it again.
        </p>
      )}
    </>
  );
}

/** After a password reset: that it worked, and the two ways to give the computer its new password. */
function ResetDone({ computer }: { computer: ComputerOverview }) {
  const name = computer.displayName;
  const byLine = (
    <li key="line">
      Connected with its line: make a new line under{' '}
      <button type="button" class="link" onClick={() => document.getElementById('connect')?.scrollIntoView()}>
        Connect
      </button>{' '}
      and run it on {name}; it puts the new password in place by itself.
    </li>
  );
  const byHand = (
    <li key="hand">Set up by hand: update its password there. The new one is shown once under “By hand” below, inside the commands to paste.</li>
  );
  return (
    <div class="done" role="status" data-testid="reset-done">
      <p>
        <strong>{name} has a new server password.</strong> The old one stopped working: {name} cannot back up until it has the new one. Give it the new one:
      </p>
      <ul>{computer.connectedAt === null && computer.lastBackupAt !== null ? [byHand, byLine] : [byLine, byHand]}</ul>
    </div>
  );
}

/** Name, quota, append-only, a new password and removal (which forgets the encryption password kept for it, when one is: `kept`). */
function ComputerSettings({
  computer,
  kept,
  onLogin,
  onRemoved,
}: {
  computer: ComputerOverview;
  kept: boolean;
  onLogin: (login: LoginCreated) => void;
  onRemoved: (message: string) => void;
}) {
  const [name, setName] = useState(computer.displayName);
  const [quota, setQuota] = useState(computer.quotaBytes === null ? '' : String(computer.quotaBytes / 1e9));
  const [confirm, setConfirm] = useState<'reset' | 'remove' | null>(null);
  const [reset, setReset] = useState(false);
  const action = useAction();
  return (
    <Card title="Settings" id="computer-settings">
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
              setReset(true);
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
          {kept &&
            ` The encryption password kept on this desktop for ${computer.displayName} is forgotten too: if you may want these backups back one day, first use “Show the password…” under Looking after the backups, and write it down.`}
        </Confirm>
      ) : (
        <div class="button-row">
          <button
            type="button"
            class="button"
            onClick={() => {
              setReset(false);
              setConfirm('reset');
            }}
          >
            Reset password…
          </button>
          <button type="button" class="button danger" onClick={() => setConfirm('remove')}>
            Remove…
          </button>
        </div>
      )}
      {reset && <ResetDone computer={computer} />}
      <ErrorText error={action.error} />
    </Card>
  );
}

/**
 * A computer's page, one card per section, in the order a family member
 * needs them: how it is doing (and a repair, when one is needed), connecting
 * it, getting files back, looking after its backups, its settings, and last
 * the restic commands for setting it up by hand, folded.
 */
function ComputerDetail({
  computer,
  password,
  repair,
  maintenanceUser,
  caretaker,
  storage,
  nativeFolderDialog,
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
  nativeFolderDialog: boolean;
  onLogin: (login: LoginCreated) => void;
  onClose: () => void;
  onRemoved: (message: string) => void;
}) {
  const name = computer.displayName;
  return (
    <div class="computer-page">
      <Card title={name} id="computer-status" actions={<button type="button" class="button small" onClick={onClose}>All computers</button>} class="detail">
        <StatusFacts computer={computer} />
        <ComputerDisks computer={computer} />
        {repair && <RepairCard computer={computer} repair={repair} maintenanceUser={maintenanceUser} kept={caretaker.keptPasswords.includes(computer.username)} />}
      </Card>
      <ConnectComputer computer={computer} />
      <Card title="Restore" id="restore">
        <RestoreSection computer={computer} caretaker={caretaker} nativeFolderDialog={nativeFolderDialog} />
        <h3>On {name} itself</h3>
        {computer.setUpBy === 'hand' && (
          <p class="why">To get files back, run these on {name} (or on another computer, to read {name}’s backups there); restic asks for {name}’s encryption password.</p>
        )}
        <CommandLines username={computer.username} os={computer.system} setUpBy={computer.setUpBy} restore />
        <NewLaptop computer={computer} caretaker={caretaker} />
      </Card>
      <Card title="Looking after the backups" id="looking-after">
        <LookingAfter computer={computer} caretaker={caretaker} storage={storage} />
      </Card>
      <ComputerSettings computer={computer} kept={caretaker.keptPasswords.includes(computer.username)} onLogin={onLogin} onRemoved={onRemoved} />
      <Card title="By hand" id="by-hand">
        <details class="more">
          <summary>Set {name} up by hand: {password ? 'its new server login, shown once, and ' : ''}the restic commands to paste</summary>
          {password && <PasswordOnce login={{ username: computer.username, password }} />}
          <h3>Commands for {name}</h3>
          <CommandLines username={computer.username} password={password} os={computer.system} />
        </details>
      </Card>
    </div>
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
          nativeFolderDialog={state.nativeFolderDialog}
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
