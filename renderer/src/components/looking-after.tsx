import type { CaretakerView, ComputerOverview, StorageView } from '../../../main/contract.js';
import { CareRuns } from './care-runs.js';
import { KeptPassword } from './kept-password.js';
import { Retention } from './retention.js';

/** Below this share of free space the page proposes removing old backups now (as the status does). */
const SPACE_LOW = 0.1;

/** A computer's page, "Looking after the backups": its encryption password kept here, which backups are kept, and what the desktop does by itself. */
export function LookingAfter({ computer, caretaker, storage }: { computer: ComputerOverview; caretaker: CaretakerView; storage: StorageView | null }) {
  const care = caretaker.computers.find((candidate) => candidate.username === computer.username);
  const kept = caretaker.keptPasswords.includes(computer.username);
  const spaceLow = storage !== null && storage.totalBytes > 0 && storage.freeBytes < storage.totalBytes * SPACE_LOW;
  return (
    <div class="looking-after">
      <KeptPassword computer={computer} caretaker={caretaker} />
      {care && (
        <>
          <Retention computer={computer} care={care} kept={kept} spaceLow={spaceLow} />
          <CareRuns computer={computer} care={care} kept={kept} />
        </>
      )}
    </div>
  );
}
