import { useState } from 'preact/hooks';
import type { EmergencySheet } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatDay, formatTime } from '../format.js';
import { Card, Confirm, ErrorText, useAction } from './ui.js';

/** The sheet itself: one printable page, every command as it is typed. */
function Sheet({ sheet }: { sheet: EmergencySheet }) {
  const folder = sheet.disk?.folder;
  return (
    <article class="emergency-sheet" aria-label="Emergency sheet">
      <h2>Emergency sheet: the family’s backups</h2>
      <p class="muted">
        Made on {formatDay(sheet.createdAt)} at {formatTime(sheet.createdAt)}. Keep it somewhere safe, such as a locked drawer: with this page and the backup disk, anyone can read the
        backups.
      </p>
      <h3>The backup server</h3>
      <dl class="facts">
        <dt>Address</dt>
        <dd>{sheet.serverAddress ? <code>{sheet.serverAddress}</code> : 'not serving when this sheet was made'}</dd>
        <dt>Certificate fingerprint</dt>
        <dd>{sheet.fingerprint ? <code class="fingerprint">{sheet.fingerprint}</code> : 'none (no HTTPS)'}</dd>
        <dt>Backup disk</dt>
        <dd>{sheet.disk ? <>“{sheet.disk.label}”, its backups in <code>{sheet.disk.folder}</code> on this desktop</> : 'none chosen'}</dd>
      </dl>
      <h3>Getting the files back without this app</h3>
      <ol>
        <li>
          On any computer, install restic (<code>restic.net</code>; on Debian or Ubuntu <code>sudo apt install restic</code>, on a Mac <code>brew install restic</code>, on Windows{' '}
          <code>winget install restic.restic</code>).
        </li>
        <li>Plug in the backup disk.{folder && <> On another computer it shows up somewhere else: type that place instead of <code>{folder}</code> in the commands below.</>}</li>
        <li>
          Open a terminal (on Windows: PowerShell), type the computer’s command below, and type its encryption password when restic asks for it. The files arrive in a new folder in your home
          folder (on Windows, write the full folder instead of <code>~</code>, such as <code>C:\Users\you\restored</code>).
        </li>
      </ol>
      {sheet.computers.map((computer) => (
        <section class="sheet-computer" key={computer.username} aria-label={computer.displayName}>
          <h3>{computer.displayName}</h3>
          <dl class="facts">
            <dt>Backups</dt>
            <dd>{computer.repository ? <code>{computer.repository}</code> : 'no backup disk chosen'}</dd>
            <dt>Encryption password</dt>
            <dd>{computer.password !== null ? <code class="secret">{computer.password}</code> : `not kept on this desktop: ask the person who set up ${computer.displayName}.`}</dd>
          </dl>
          {computer.restoreCommand === null ? (
            <p>There are no backups of {computer.displayName} on the disk yet.</p>
          ) : (
            <>
              <p>Restore its latest backup from the disk:</p>
              <pre>
                <code>{computer.restoreCommand}</code>
              </pre>
            </>
          )}
          {computer.fromCopy && (
            <>
              <p>Or from the offsite copy:</p>
              <pre>
                <code>{computer.fromCopy.steps.map((step) => step.command).join('\n')}</code>
              </pre>
              {computer.fromCopy.notes.map((note) => (
                <p class="muted" key={note}>
                  {note}
                </p>
              ))}
            </>
          )}
        </section>
      ))}
      <h3>The offsite copy</h3>
      <p>{sheet.offsite ? <>A copy of every computer’s backups is kept at <code>{sheet.offsite}</code>. It holds the same encrypted backups: the same passwords open them.</> : 'There is no offsite copy.'}</p>
    </article>
  );
}

/** Settings → "Print the emergency sheet": asks first, since the sheet shows the kept passwords. */
export function EmergencySheetCard() {
  const [asking, setAsking] = useState(false);
  const [sheet, setSheet] = useState<EmergencySheet | null>(null);
  const action = useAction();
  return (
    <Card title="Emergency sheet">
      <p class="muted">One page for the family’s drawer: how to get every computer’s files back from the backup disk with restic alone, if this desktop or this app is gone.</p>
      {sheet ? (
        <>
          <div class="button-row">
            <button type="button" class="button primary" onClick={() => window.print()}>
              Print
            </button>
            <button type="button" class="button" onClick={() => setSheet(null)}>
              Hide the sheet
            </button>
          </div>
          <Sheet sheet={sheet} />
        </>
      ) : asking ? (
        <Confirm
          id="emergency-sheet"
          question="Show the emergency sheet with the encryption passwords?"
          yes="Show it"
          no="Do not show"
          busy={action.busy}
          onNo={() => setAsking(false)}
          onYes={() =>
            void action.run(async () => {
              setSheet(await api.emergencySheet());
              setAsking(false);
            })
          }
        >
          It shows every encryption password kept on this desktop. Whoever sees or finds the printed page can read those backups. Make sure nobody looks over your shoulder.
        </Confirm>
      ) : (
        <button type="button" class="button" onClick={() => setAsking(true)}>
          Print the emergency sheet…
        </button>
      )}
      <ErrorText error={action.error} />
    </Card>
  );
}
