import { mkdir, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { FolderListing } from '../../contract.js';
import { UserError } from '../core/errors.js';

function folderError(path: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError('folder-not-found', `The folder ${path} does not exist (any more). Choose another one.`);
  if (code === 'ENOTDIR') return new UserError('not-a-folder', `${path} is a file, not a folder.`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError('folder-denied', `This app may not open ${path}. Choose another folder.`);
  if (code === 'EEXIST') return new UserError('folder-exists', `${path} already exists.`);
  return new UserError('folder-error', `Cannot open ${path} (${code ?? (error as Error).message}).`);
}

/** A folder's listing before the drive it is on is looked up. */
export type FolderContents = Omit<FolderListing, 'drive' | 'fileSystem' | 'warnings' | 'inMemory'>;

/** The sub-folders of a folder (hidden ones left out), for choosing a folder where there is no native dialog. */
export async function browseFolder(path = homedir()): Promise<FolderContents> {
  const folder = resolve(path);
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    throw folderError(folder, error);
  }
  const folders: FolderListing['folders'] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(folder, entry.name);
    const isFolder = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(full).then((info) => info.isDirectory(), () => false)));
    if (isFolder) folders.push({ name: entry.name, path: full });
  }
  folders.sort((a, b) => a.name.localeCompare(b.name));
  const parent = dirname(folder);
  return { path: folder, parent: parent === folder ? null : parent, home: folder === resolve(homedir()), folders };
}

/** Makes a new folder inside `parent` and lists it. */
export async function createFolder(parent: string, name: string): Promise<FolderContents> {
  const folder = join(resolve(parent), name);
  try {
    await mkdir(folder, { mode: 0o700 });
  } catch (error) {
    throw folderError(folder, error);
  }
  return browseFolder(folder);
}
