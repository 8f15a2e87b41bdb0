import { constants } from 'node:fs';
import { lstat, mkdir, chmod } from 'node:fs/promises';
import { HttpError } from './errors.js';

/**
 * A data folder can come from anywhere (a foreign USB disk, a folder a group
 * can write to), so a folder or file in it may be a symbolic link to
 * somewhere else. The server never reads, writes, lists or deletes through
 * one. Node has no `openat`, so folders are looked at with `lstat` just
 * before use and files are opened with `O_NOFOLLOW`.
 */

/** `O_NOFOLLOW` where the platform has it (not on Windows, where making links needs an administrator). */
export const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** The code a worker thread's error carries when it met a link (its message is the link's path). */
export const LINK_CODE = 'ERR_RTS_LINK';

export const linkSentence = (path: string): string => `${path} is a symbolic link; the server does not follow links out of the data folder`;

/** A request refused because its path runs through a link: the data folder needs mending, not the client (500). */
export class LinkRefusedError extends HttpError {
  constructor(readonly link: string) {
    super(500, linkSentence(link));
  }
}

/** `O_NOFOLLOW` on a link fails with ELOOP (EMLINK on FreeBSD). */
export const isLinkOpenError = (error: unknown): boolean => ['ELOOP', 'EMLINK'].includes((error as NodeJS.ErrnoException).code ?? '');

/** A worker's link error, or ELOOP from an `O_NOFOLLOW` open of `path`, as the refusal it means; anything else unchanged. */
export function asLinkRefusal(error: unknown, path?: string): unknown {
  if ((error as NodeJS.ErrnoException).code === LINK_CODE) return new LinkRefusedError((error as Error).message);
  if (path !== undefined && isLinkOpenError(error)) return new LinkRefusedError(path);
  return error;
}

/** Throws unless `path` is a real folder: a link is refused, a file is ENOTDIR, a missing one ENOENT. */
export async function requireFolder(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) throw new LinkRefusedError(path);
  if (!info.isDirectory()) throw Object.assign(new Error(`${path} is not a folder`), { code: 'ENOTDIR' });
}

/** Checks folders all at once (one wait for the lot); the failure told is that of the outermost. */
export async function requireFolders(paths: readonly string[]): Promise<void> {
  const failed = (await Promise.allSettled(paths.map(requireFolder))).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Makes a folder, or checks that the one there is a real folder (mkdir
 * answers EEXIST for a link too). Group bits are set explicitly, as the
 * umask would clear them.
 */
export async function makeFolder(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await requireFolder(path);
    return;
  }
  if (mode & 0o070) await chmod(path, mode);
}
