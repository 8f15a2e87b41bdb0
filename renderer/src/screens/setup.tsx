import { useState } from 'preact/hooks';
import type { AppState, LoginCreated } from '../../../main/contract.js';
import { api } from '../api.js';
import { FolderPicker } from '../components/folder-picker.js';
import { Card, ErrorText, Toggle, useAction, WhyDisabled } from '../components/ui.js';
import { formatBytes, parsePort } from '../format.js';

const STEPS = ['Backup disk', 'Computers', 'Security', 'Start'];

/** First-run set-up, four steps, each saying why it matters. It can be run again from Settings. */
export function Setup({ state, onLogin, onDone }: { state: AppState; onLogin: (login: LoginCreated) => void; onDone: () => void }) {
  const [step, setStep] = useState(state.storage ? 1 : 0);
  const [name, setName] = useState('');
  const [tls, setTls] = useState(state.certificate.mode !== 'off');
  const [appendOnly, setAppendOnly] = useState(true);
  const [port, setPort] = useState(String(state.settings.port));
  const [autostart, setAutostart] = useState(true);
  /** Why the server did not start, in the dashboard's sentence; set-up is not complete until it serves. */
  const [notServing, setNotServing] = useState<string | null>(null);
  const action = useAction();
  /** What went wrong belongs to the step it happened on: another step starts without it. */
  const goTo = (next: number) => {
    action.clear();
    setNotServing(null);
    setStep(next);
  };

  const choose = (path: string) =>
    action.run(async () => {
      await api.chooseFolder({ path });
      setStep(1);
    });
  const add = () =>
    action.run(async () => {
      const login = await api.addComputer({ displayName: name, appendOnly });
      onLogin(login);
      setName('');
    });
  const finish = () =>
    action.run(async () => {
      const portNumber = parsePort(port);
      await api.updateSettings({ port: portNumber, ...(state.desktop ? { autostart } : {}) });
      await api.setTls({ enabled: tls });
      for (const computer of state.computers) if (computer.appendOnly !== appendOnly) await api.updateComputer({ username: computer.username, appendOnly });
      const started = await api.startServer();
      const serving = started.status === 'serving' || started.status === 'attention';
      setNotServing(serving ? null : started.sentence);
      if (!serving) return;
      await api.updateSettings({ setupComplete: true });
      onDone();
    });
  const nameMissing = name.trim() === '' ? 'Type the computer’s name to add it.' : null;

  return (
    <div class="setup">
      <header class="setup-head">
        <h1>Set up Restic Tray Server</h1>
        <p class="lead">A few minutes from here, this computer keeps the backups of every computer in the family.</p>
        <ol class="stepper" aria-label="Set-up steps">
          {STEPS.map((label, index) => (
            <li class={index === step ? 'current' : index < step ? 'done' : ''} aria-current={index === step ? 'step' : undefined} key={label}>
              <span class="step-number">{index < step ? '✓' : index + 1}</span> {label}
            </li>
          ))}
        </ol>
      </header>

      {step === 0 && (
        <Card title="1. Where should the backups go?">
          <p class="why">Pick a big disk, ideally a USB disk used only for backups: if this computer breaks, the backups survive on it.</p>
          <FolderPicker onChoose={(path) => void choose(path)} busy={action.busy} nativeDialog={state.nativeFolderDialog} />
          <ErrorText error={action.error} />
        </Card>
      )}

      {step === 1 && (
        <Card title="2. Which computers will back up here?">
          <p class="why">Each computer gets its own login and its own space, so one computer can never read or delete another’s backups.</p>
          {state.storage && (
            <p class="muted">
              Backups go to <code>{state.storage.folder}</code> ({formatBytes(state.storage.freeBytes)} free).
            </p>
          )}
          <form
            class="row-form"
            onSubmit={(event) => {
              event.preventDefault();
              void add();
            }}
          >
            <label for="computer-name">Computer name</label>
            <input id="computer-name" value={name} placeholder="Anna’s laptop" onInput={(event) => setName((event.target as HTMLInputElement).value)} />
            <button type="submit" class="button primary" disabled={nameMissing !== null || action.busy} aria-describedby="setup-name-why">
              Add computer
            </button>
          </form>
          <WhyDisabled id="setup-name-why" reason={nameMissing} />
          <ErrorText error={action.error} />
          {state.computers.length > 0 && (
            <ul class="plain-list">
              {state.computers.map((computer) => (
                <li key={computer.username}>
                  {computer.displayName} <span class="muted">({computer.username})</span>
                </li>
              ))}
            </ul>
          )}
          <p class="hint">After the start, each computer’s page gives one line to run there: it sets restic up and makes the first backup, and no password needs copying. You can add computers later too.</p>
          <div class="wizard-nav">
            <button type="button" class="button" onClick={() => goTo(0)}>
              Back
            </button>
            <button type="button" class="button primary" onClick={() => goTo(2)}>
              Next
            </button>
          </div>
        </Card>
      )}

      {step === 2 && (
        <Card title="3. How safe should it be?">
          <p class="why">Encrypted connections keep backups private on the home network; append-only keeps a virus on a computer from deleting its backups.</p>
          <Toggle checked={tls} onChange={setTls} label="Encrypt connections (TLS)" hint="With a household certificate made here. Each computer saves one small file to trust it." />
          <Toggle
            checked={appendOnly}
            onChange={setAppendOnly}
            label="Append-only for family computers"
            hint="Computers can add backups but never delete them. Old backups are cleaned up with a separate maintenance login."
          />
          <div class="wizard-nav">
            <button type="button" class="button" onClick={() => goTo(1)}>
              Back
            </button>
            <button type="button" class="button primary" onClick={() => goTo(3)}>
              Next
            </button>
          </div>
        </Card>
      )}

      {step === 3 && (
        <Card title="4. Start serving">
          <p class="why">
            {state.desktop
              ? 'The server runs in the background; the tray icon shows at a glance whether backups work.'
              : 'In headless mode the server runs as long as this program runs (docs/operations.md shows how to run it as a service).'}
          </p>
          <ul class="summary-list">
            <li>
              Backups in <code>{state.storage?.folder}</code>
            </li>
            <li>{state.computers.length === 0 ? 'No computer yet: add them in Computers.' : `${state.computers.length} computer${state.computers.length === 1 ? '' : 's'}: ${state.computers.map((c) => c.displayName).join(', ')}`}</li>
            <li>{tls ? 'Encrypted connections' : 'Unencrypted connections (only on a network you trust)'}</li>
            <li>{appendOnly ? 'Append-only for family computers' : 'Computers may delete their own backups'}</li>
          </ul>
          <div class="field narrow">
            <label for="setup-port">Port</label>
            <input id="setup-port" inputMode="numeric" value={port} aria-describedby="setup-port-hint" onInput={(event) => setPort((event.target as HTMLInputElement).value)} />
            <p class="hint" id="setup-port-hint">
              8000 is restic’s usual port. If another backup server already uses it on this computer, choose another, such as 8001.
            </p>
          </div>
          {state.desktop && <Toggle checked={autostart} onChange={setAutostart} label="Start with this computer" hint="So backups keep arriving after a restart, without anyone opening the app." />}
          {notServing && (
            <div class="error" role="alert">
              <p>{notServing}</p>
              <p>Set-up is not finished until the server runs: do what this says (the port can be changed above), then start again.</p>
            </div>
          )}
          <ErrorText error={action.error} />
          <div class="wizard-nav">
            <button type="button" class="button" onClick={() => goTo(2)}>
              Back
            </button>
            <button type="button" class="button primary" disabled={action.busy} onClick={() => void finish()}>
              {notServing ? 'Start again' : 'Start the server'}
            </button>
          </div>
        </Card>
      )}
    </div>
  );
}
