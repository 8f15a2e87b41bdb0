/**
 * Windows cannot open a folder for fsync; NTFS journals the rename itself.
 * Same signature as the POSIX version.
 */
export async function syncFolder(_folder: string): Promise<void> {}
