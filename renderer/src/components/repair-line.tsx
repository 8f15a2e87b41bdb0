import { useState } from 'preact/hooks';
import type { ComputerOverview, RepairLine as Line } from '../../../main/contract.js';
import { api } from '../api.js';
import { clock } from './connect.js';
import { CodeBlock, ErrorText, MakeLineButton, useAction } from './ui.js';

/**
 * The repair line, for a computer the set-up line connected whose encryption
 * password is not kept here: run once there, it repairs with what the set-up
 * installed, with a right to delete in its own backups until it ends.
 */
export function RepairLine({ computer }: { computer: ComputerOverview }) {
  const [made, setMade] = useState<Line | null>(null);
  const action = useAction();
  const name = computer.displayName;
  return (
    <section class="repair-line" aria-labelledby="repair-line-title">
      <h4 id="repair-line-title">Repair with one line</h4>
      <p>
        One line to run on {name}: it repairs the backups there with what its set-up installed, and backs up again what the damaged files held. For the repair, {name} may delete in its own backups
        until the repair ends, an hour at most. The line works once, for 15 minutes.
      </p>
      {made && (
        <>
          <p>restic says a few things on the way that sound alarming; these are expected:</p>
          <ul class="expected">
            {made.expected.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
          <CodeBlock label={`Run this on ${name}; it works once, until ${clock(made.expiresAt)}`} code={made.line} name="the repair line" />
          <p class="hint">When it says “Done: the backups of {name} are repaired”, this warning goes by itself.</p>
        </>
      )}
      <div class="button-row">
        <MakeLineButton
          made={made !== null}
          busy={action.busy}
          label="Make the repair line"
          again="Make a new repair line"
          onMake={() => void action.run(async () => setMade(await api.repairLine({ username: computer.username, os: computer.system ?? 'linux' })))}
        />
      </div>
      <ErrorText error={action.error} />
    </section>
  );
}
