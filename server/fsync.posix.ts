import { close, fsync, open } from 'node:fs';
import { promisify } from 'node:util';

/** A folder can be opened and fsynced. */
export const syncsFolders = true;

// The callback API: through `fs/promises` each call cost more CPU (see atomic-write.ts).
const openAsync = promisify(open);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

/** Makes a rename or create inside `folder` durable. */
export async function syncFolder(folder: string): Promise<void> {
  const fd = await openAsync(folder, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    await closeAsync(fd);
  }
}
