/**
 * Windows cannot open a folder for fsync; NTFS journals the rename itself.
 * Same signature as the POSIX version.
 */
export const syncsFolders = false;

export async function syncFolder(_folder: string): Promise<void> {}
