import { closeFd, fsyncFd, openFd } from './descriptors.js';

/** A folder can be opened and fsynced. */
export const syncsFolders = true;

/** Makes a rename or create inside `folder` durable. */
export async function syncFolder(folder: string): Promise<void> {
  const fd = await openFd(folder, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}
