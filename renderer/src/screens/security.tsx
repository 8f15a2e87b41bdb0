import { useRef, useState } from 'preact/hooks';
import type { AppState, LoginCreated } from '../../../main/contract.js';
import { api } from '../api.js';
import { CommandLines } from '../components/command-lines.js';
import { Card, ErrorText, PasswordOnce, Toggle, download, useAction } from '../components/ui.js';

const readFile = (input: HTMLInputElement | null): Promise<string> => {
  const file = input?.files?.[0];
  return file ? file.text() : Promise.reject(new Error('Choose both files first.'));
};

/** How many computers are append-only, in words, as it really is: each computer's own switch is the truth. */
function appendOnlySentence(computers: AppState['computers']): string {
  const total = computers.length;
  const kept = computers.filter((computer) => computer.appendOnly).length;
  if (total === 0) return 'No computer yet: each one added is append-only unless its switch is turned off.';
  if (total === 1) {
    const [only] = computers as [AppState['computers'][number]];
    return kept === 1 ? `${only.displayName} is append-only.` : `${only.displayName} is not append-only: it may delete its own backups.`;
  }
  if (kept === total) return `All ${total} computers are append-only.`;
  if (kept === 0) return `None of the ${total} computers is append-only: each may delete its own backups.`;
  return `${kept} of ${total} computers ${kept === 1 ? 'is' : 'are'} append-only.`;
}

/** Append-only: the sentence, one switch per computer, and one button for all of them. */
function AppendOnly({ state }: { state: AppState }) {
  const action = useAction();
  const open = state.computers.filter((computer) => !computer.appendOnly);
  return (
    <div class="append-only">
      <p class="append-only-summary" data-testid="append-only-summary">
        {appendOnlySentence(state.computers)}
      </p>
      <p class="hint">An append-only computer can add backups but never delete them, so a virus on it cannot wipe them. The maintenance login below still may.</p>
      {state.computers.map((computer) => (
        <Toggle
          key={computer.username}
          checked={computer.appendOnly}
          onChange={(appendOnly) => action.run(() => api.updateComputer({ username: computer.username, appendOnly }))}
          label={computer.displayName}
          hint={computer.appendOnly ? 'Append-only: cannot delete its backups.' : 'May delete its own backups.'}
        />
      ))}
      {open.length > 0 && state.computers.length > 1 && (
        <div class="button-row">
          <button
            type="button"
            class="button"
            disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                for (const computer of open) await api.updateComputer({ username: computer.username, appendOnly: true });
              })
            }
          >
            Make every computer append-only
          </button>
        </div>
      )}
      <ErrorText error={action.error} />
    </div>
  );
}

/** TLS and its certificate, append-only for everyone, and the maintenance login. */
export function Security({ state }: { state: AppState }) {
  const action = useAction();
  const [maintenance, setMaintenance] = useState<LoginCreated | null>(null);
  const [repository, setRepository] = useState(state.computers[0]?.username ?? '');
  const [confirmAuthority, setConfirmAuthority] = useState(false);
  const certificate = state.certificate;
  const certInput = useRef<HTMLInputElement>(null);
  const keyInput = useRef<HTMLInputElement>(null);
  return (
    <div class="screen">
      <h1>Security</h1>
      <Card title="Encrypted connections">
        <Toggle
          checked={certificate.mode !== 'off'}
          onChange={(enabled) => action.run(() => api.setTls({ enabled }))}
          label="Encrypt connections (TLS)"
          hint="Without it, logins and backups cross the network readable to anyone on it (restic still encrypts the backups themselves)."
        />
        {certificate.mode !== 'off' && (
          <>
            <dl class="facts">
              <dt>Certificate</dt>
              <dd>{certificate.mode === 'household' ? 'Household certificate made by this app' : 'Your own certificate'}</dd>
              <dt>{certificate.mode === 'household' ? 'Authority fingerprint (SHA-256)' : 'Fingerprint (SHA-256)'}</dt>
              <dd>
                <code class="fingerprint" data-testid="fingerprint">
                  {certificate.fingerprint}
                </code>
              </dd>
              <dt>Valid until</dt>
              <dd>{certificate.serverNotAfter ? new Date(certificate.serverNotAfter).toLocaleDateString() : '–'}</dd>
              <dt>Valid for</dt>
              <dd>{certificate.names.join(', ')}</dd>
            </dl>
            <div class="button-row">
              <button
                type="button"
                class="button"
                onClick={() =>
                  void action.run(async () => {
                    const ca = await api.caCertificate();
                    download(ca.fileName, ca.pem);
                  })
                }
              >
                Save the authority file
              </button>
              {certificate.mode === 'household' ? (
                <>
                  <button type="button" class="button" onClick={() => void action.run(() => api.regenerateCertificates({ authority: false }))}>
                    Renew the server certificate
                  </button>
                  {confirmAuthority ? (
                    <>
                      <span class="warn-text">Every computer then needs the new authority file.</span>
                      <button type="button" class="button danger" onClick={() => void action.run(() => api.regenerateCertificates({ authority: true }).then(() => setConfirmAuthority(false)))}>
                        Make a new authority
                      </button>
                    </>
                  ) : (
                    <button type="button" class="button danger" onClick={() => setConfirmAuthority(true)}>
                      New authority…
                    </button>
                  )}
                </>
              ) : (
                <button type="button" class="button" onClick={() => void action.run(() => api.useHouseholdCertificate())}>
                  Use the household certificate
                </button>
              )}
            </div>
            <details class="more">
              <summary>Use your own certificate</summary>
              <form
                class="stack"
                onSubmit={(event) => {
                  event.preventDefault();
                  void action.run(async () => api.importCertificate({ certificatePem: await readFile(certInput.current), keyPem: await readFile(keyInput.current) }));
                }}
              >
                <div class="field">
                  <label for="own-cert">Certificate (PEM)</label>
                  <input id="own-cert" type="file" accept=".pem,.crt,.cer" ref={certInput} />
                </div>
                <div class="field">
                  <label for="own-key">Private key (PEM, not encrypted)</label>
                  <input id="own-key" type="file" accept=".pem,.key" ref={keyInput} />
                </div>
                <button type="submit" class="button">
                  Use these files
                </button>
              </form>
            </details>
          </>
        )}
        <ErrorText error={action.error} />
      </Card>
      <Card title="Deleting backups">
        <AppendOnly state={state} />
        <h3>Maintenance login</h3>
        <p class="why">Append-only computers cannot remove old backups. The maintenance login can, for every computer: keep it off the family computers.</p>
        {maintenance && <PasswordOnce login={maintenance} />}
        <div class="button-row">
          <button type="button" class="button" onClick={() => void action.run(async () => setMaintenance(await api.createMaintenanceLogin()))}>
            {state.maintenanceUser ? 'Reset its password' : 'Create the maintenance login'}
          </button>
          {state.maintenanceUser && (
            <button
              type="button"
              class="button danger"
              onClick={() =>
                void action.run(async () => {
                  await api.removeMaintenanceLogin();
                  setMaintenance(null);
                })
              }
            >
              Remove it
            </button>
          )}
        </div>
        {state.maintenanceUser && state.computers.length > 0 && (
          <>
            <label class="inline">
              Clean up the backups of
              <select value={repository} onChange={(event) => setRepository((event.target as HTMLSelectElement).value)}>
                {state.computers.map((computer) => (
                  <option value={computer.username} key={computer.username}>
                    {computer.displayName}
                  </option>
                ))}
              </select>
            </label>
            <CommandLines username={state.maintenanceUser} password={maintenance?.password} repository={repository} />
          </>
        )}
      </Card>
    </div>
  );
}
