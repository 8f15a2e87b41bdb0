import { useEffect, useState } from 'preact/hooks';
import type { CaretakerView, ComputerOverview, NewLaptopLine } from '../../../main/contract.js';
import { api } from '../api.js';
import { formatDay, formatTime, timeAgo } from '../format.js';
import { clock, lineState, SYSTEMS, SystemTabs, type LineSystem } from './connect.js';
import { CodeBlock, ErrorText, Field, MakeLineButton, useAction } from './ui.js';

/**
 * "Set up a new computer with these files": for a computer that died or was
 * replaced, one line to run on the new one. It brings back the newest backup
 * there and connects it as the same computer (valid once, 15 minutes). It
 * needs the encryption password kept here: the new computer gets it from here.
 */
export function NewLaptop({ computer, caretaker }: { computer: ComputerOverview; caretaker: CaretakerView }) {
  const name = computer.displayName;
  const kept = caretaker.keptPasswords.includes(computer.username);
  const [os, setOs] = useState<LineSystem>(computer.system ?? 'linux');
  const system = SYSTEMS.find((one) => one.os === os) ?? SYSTEMS[0];
  const [target, setTarget] = useState('');
  const [made, setMade] = useState<(NewLaptopLine & { madeAt: number }) | null>(null);
  const action = useAction();
  // A line shown says it expired at its end, even when nothing else on the page changes then.
  const [, setNow] = useState(0);
  useEffect(() => {
    if (!made) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.max(0, Date.parse(made.expiresAt) - Date.now()) + 1000);
    return () => clearTimeout(timer);
  }, [made]);
  // Fetching the line connects the computer again.
  const state = lineState(made, computer);
  return (
    <section class="new-laptop" aria-labelledby="new-laptop-title">
      <h3 id="new-laptop-title">Set up a new computer with these files</h3>
      <p>
        When {name} is broken or lost, or a new computer takes its place: one line to run on the new computer brings back everything from {name}’s newest backup into its home folder, then connects it as {name}, so
        its backups go on where they are. Nothing already on the new computer is overwritten: what has the same name stays in a folder the line names at the end.
      </p>
      {!kept ? (
        <p class="muted">This needs {name}’s encryption password kept on this desktop (Looking after the backups, below): the new computer gets it from here.</p>
      ) : (
        <>
          <SystemTabs
            os={os}
            label="The new computer’s system"
            onChoose={(chosen) => {
              setOs(chosen);
              setMade(null);
            }}
          />
          <div class="field">
            <Field
              id="new-laptop-target"
              label="Into a folder (optional)"
              value={target}
              placeholder="its home folder"
              onInput={(value) => {
                setTarget(value);
                setMade(null);
              }}
              hint="Leave it empty for the home folder; or a folder inside it, such as Old laptop, or a full path."
            />
          </div>
          {made && state === 'used' && (
            <p class="ok-text" role="status">
              The line was used: the new computer fetched its set-up {timeAgo(computer.connectedAt)}. It restores the files first, then backs up as {name}; its window says when it is done.
            </p>
          )}
          {made && state === 'expired' && <p class="hint">The line expired at {clock(made.expiresAt)} unused: make a new one.</p>}
          {made && state === 'live' && (
            <>
              <p>
                It restores the backup of {formatDay(made.backup.time)} {formatTime(made.backup.time)}
                {made.backup.host ? ` (from ${made.backup.host})` : ''} into {target.trim() === '' ? 'the home folder' : target.trim()}.
                {made.needsRestic && ` The new computer needs restic ${made.needsRestic} or newer; the line says so there before it changes anything.`}
              </p>
              <CodeBlock label={`Run this on the new computer; it works once, until ${clock(made.expiresAt)}`} code={made.line} name="the new-computer line" />
              <p class="hint">Copy it and send it to yourself (an e-mail or a chat message), then open it on the new computer and paste it into {system.where}.</p>
            </>
          )}
          <div class="button-row">
            <MakeLineButton
              made={made !== null}
              busy={action.busy}
              label="Make the line for the new computer"
              again="Make a new line"
              onMake={() =>
                void action.run(async () => {
                  const line = await api.newLaptopLine({ username: computer.username, os, ...(target.trim() === '' ? {} : { target: target.trim() }) });
                  setMade({ ...line, madeAt: Date.now() });
                })
              }
            />
          </div>
        </>
      )}
      <ErrorText error={action.error} />
    </section>
  );
}
