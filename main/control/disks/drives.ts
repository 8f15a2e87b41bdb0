import type { Drive } from '../../contract.js';
import { listDarwinDrives } from './drives.darwin.js';
import { listLinuxDrives } from './drives.linux.js';
import { listWindowsDrives } from './drives.win32.js';
import { driveWarnings } from './file-systems.js';

/** What each platform's lister finds before the warnings are added. */
export type FoundDrive = Omit<Drive, 'warnings'>;

/** The drives of this computer, with their warnings; only the current platform's code runs. */
export async function listDrives(): Promise<Drive[]> {
  const found =
    process.platform === 'win32' ? await listWindowsDrives() : process.platform === 'darwin' ? await listDarwinDrives() : await listLinuxDrives();
  return found.map((drive) => ({ ...drive, warnings: driveWarnings(drive) }));
}
