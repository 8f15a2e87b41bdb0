import { join } from 'node:path';
import type { AppState, EmergencySheet } from '../../contract.js';
import { SHELLS } from '../core/shell-quote.js';

type FromCopy = EmergencySheet['computers'][number]['fromCopy'];

/** Where a computer's backups go back to on the computer that restores them: a new folder in the home folder, never over anything there. */
export const restoreTarget = (username: string): string => `~/restored-${username}`;

/**
 * The emergency sheet from the app's state, the kept passwords and the
 * offsite copy's commands: what someone needs, with restic alone, to read
 * each computer's backups from the disk (or the copy) when this app or this
 * desktop is gone (`backedUp`: the computers whose repository is on the
 * disk). restic asks for the password when the command runs.
 */
export function buildSheet(state: AppState, facts: { passwords: Map<string, string | null>; fromCopy: Map<string, FromCopy>; backedUp: Set<string> }, now: Date): EmergencySheet {
  const folder = state.storage?.folder ?? null;
  return {
    createdAt: now.toISOString(),
    serverAddress: state.clientUrl,
    fingerprint: state.certificate.fingerprint,
    disk: state.storage && { label: state.storage.label, folder: state.storage.folder },
    computers: state.computers.map((computer) => {
      const repository = folder === null ? null : join(folder, computer.username);
      return {
        displayName: computer.displayName,
        username: computer.username,
        repository,
        password: facts.passwords.get(computer.username) ?? null,
        restoreCommand: repository === null || !facts.backedUp.has(computer.username) ? null : `restic -r ${SHELLS.bash.quote(repository)} restore latest --target ${restoreTarget(computer.username)}`,
        fromCopy: facts.fromCopy.get(computer.username) ?? null,
      };
    }),
    offsite: state.offsite.target?.remote ?? null,
  };
}
