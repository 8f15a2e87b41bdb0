import { fsyncFd } from './descriptors.js';
import * as posix from './fsync.posix.js';
import * as win32 from './fsync.win32.js';

// Some file systems cannot fsync at all: exFAT on macOS returns ENOTTY, FUSE
// and SMB mounts return EINVAL or ENOTSUP. The data is still written; say so
// once instead of failing every upload.
const UNSUPPORTED = new Set(['ENOTTY', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EISDIR', 'EBADF', 'EPERM']);

export interface Syncer {
  /** fsync of an open file's descriptor. */
  syncFile(fd: number): Promise<void>;
  syncFolder(folder: string): Promise<void>;
  /** For fsyncs made elsewhere (a worker thread): the codes that mean the disk cannot fsync, and whether folders can be fsynced here. */
  readonly unsupported: readonly string[];
  readonly syncsFolders: boolean;
  /** An fsync elsewhere failed with one of `unsupported`: warns once, as a failure here would. */
  notSynced(code: string, what: string): void;
}

/** fsync for files and folders that warns once when the disk cannot do it. */
export function createSyncer(warn: (message: string) => void): Syncer {
  let warned = false;
  const notSynced = (code: string, what: string): void => {
    if (warned) return;
    warned = true;
    warn(`the backup disk does not support fsync (${code} on ${what}); writes are not guaranteed to survive a power cut`);
  };
  const tolerate = (error: unknown, what: string): void => {
    const code = (error as NodeJS.ErrnoException).code;
    if (!code || !UNSUPPORTED.has(code)) throw error;
    notSynced(code, what);
  };
  const platform = process.platform === 'win32' ? win32 : posix;
  return {
    unsupported: [...UNSUPPORTED],
    syncsFolders: platform.syncsFolders,
    notSynced,
    async syncFile(fd) {
      try {
        await fsyncFd(fd);
      } catch (error) {
        tolerate(error, 'a file');
      }
    },
    async syncFolder(folder) {
      try {
        await platform.syncFolder(folder);
      } catch (error) {
        tolerate(error, 'a folder');
      }
    },
  };
}
