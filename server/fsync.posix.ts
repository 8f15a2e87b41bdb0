import { open } from 'node:fs/promises';

/** A folder can be opened and fsynced. */
export const syncsFolders = true;

/** Makes a rename or create inside `folder` durable. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
