import { useState } from 'preact/hooks';
import type { CaretakerView, ComputerOverview } from '../../../main/contract.js';
import { api } from '../api.js';
import { Confirm, CopyButton, ErrorText, useAction, WhyDisabled } from './ui.js';

/** Who can read a kept password, in the words of where it is locked. */
const LOCKS: Record<CaretakerView['passwordLock'], string> = {
  keychain: 'It is locked in this desktop’s keychain: a stolen backup disk or the offsite copy does not give it away, but whoever uses this desktop’s account can read it, and with it the backups.',
  'key-file': 'It is encrypted with a key kept in the app’s folder on this desktop: a stolen backup disk or the offsite copy does not give it away, but whoever uses this desktop’s account can read it, and with it the backups.',
};

/** "Keep the encryption password" on a computer's page: checked by restic on the disk before it is kept; shown only when asked, after a question. */
export function KeptPassword({ computer, caretaker }: { computer: ComputerOverview; caretaker: CaretakerView }) {
  const [typed, setTyped] = useState('');
  const [confirm, setConfirm] = useState<'show' | 'forget' | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const action = useAction();
  const kept = caretaker.keptPasswords.includes(computer.username);
  const name = computer.displayName;
  const why = caretaker.restic === null ? caretaker.problem : typed === '' ? 'Type the encryption password first.' : null;
  return (
    <section aria-labelledby="kept-password-title">
      <h4 id="kept-password-title">The encryption password</h4>
      {kept ? (
        <>
          <p class="ok-text" role="status">
            The encryption password is kept on this desktop.
          </p>
          <p class="muted">{LOCKS[caretaker.passwordLock]}</p>
          {shown !== null && (
            <p>
              <code class="secret">{shown}</code> <CopyButton text={shown} label="Copy password" />{' '}
              <button type="button" class="button small" onClick={() => setShown(null)}>
                Hide
              </button>
            </p>
          )}
          {confirm === 'show' ? (
            <Confirm
              id="show-password"
              question={`Show the encryption password of ${name}?`}
              yes="Show it"
              no="Do not show"
              busy={action.busy}
              onNo={() => setConfirm(null)}
              onYes={() =>
                void action.run(async () => {
                  setShown((await api.showPassword({ username: computer.username })).password);
                  setConfirm(null);
                })
              }
            >
              Whoever sees it, and reaches the backups, can read everything {name} backed up. Make sure nobody looks over your shoulder.
            </Confirm>
          ) : confirm === 'forget' ? (
            <Confirm
              id="forget-password"
              question={`Forget the kept password of ${name}?`}
              yes="Yes, forget it"
              no="Keep it"
              busy={action.busy}
              onNo={() => setConfirm(null)}
              onYes={() =>
                void action.run(async () => {
                  await api.forgetPassword({ username: computer.username });
                  setShown(null);
                  setConfirm(null);
                })
              }
            >
              The backups stay as they are. If the password is then lost on {name} too, nobody can read its backups any more.
            </Confirm>
          ) : (
            <div class="button-row">
              {shown === null && (
                <button type="button" class="button" onClick={() => setConfirm('show')}>
                  Show the password…
                </button>
              )}
              <button type="button" class="button danger" onClick={() => setConfirm('forget')}>
                Forget the kept password…
              </button>
            </div>
          )}
        </>
      ) : (
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(async () => {
              await api.keepPassword({ username: computer.username, password: typed });
              setTyped('');
            });
          }}
        >
          <p class="muted">
            Keep a copy of {name}’s encryption password on this desktop, so that its backups can be restored even if the password is forgotten there. The app checks it by opening the backups
            first. Whoever uses this desktop’s account can then read {name}’s backups.
          </p>
          <div class="field">
            <label for="keep-password">Encryption password of {name}</label>
            <input id="keep-password" type="password" autocomplete="off" value={typed} onInput={(event) => setTyped((event.target as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="button primary" disabled={why !== null || action.busy} aria-describedby="keep-password-why">
            {action.busy ? 'Checking…' : 'Keep the encryption password'}
          </button>
          <WhyDisabled id="keep-password-why" reason={why} />
        </form>
      )}
      <ErrorText error={action.error} />
      {caretaker.restic && <p class="muted">restic {caretaker.restic.version} on this desktop opens the backups.</p>}
    </section>
  );
}
