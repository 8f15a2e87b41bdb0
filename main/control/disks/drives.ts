import type { Drive } from '../../contract.js';
import { listDarwinDrives } from './drives.darwin.js';
import { linuxFileSystemOf, listLinuxDrives } from './drives.linux.js';
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

/**
 * The file system a folder is on, for a folder on none of the drives (a
 * tmpfs, a bind mount). Only Linux says: there a RAM file system is an
 * everyday mount; elsewhere the drive list covers what people pick.
 */
export async function fileSystemOf(folder: string): Promise<string | null> {
  return process.platform === 'linux' ? linuxFileSystemOf(folder).catch(() => null) : null;
}
