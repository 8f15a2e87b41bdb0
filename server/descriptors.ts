import { close, fchmod, fsync, open } from 'node:fs';
import { promisify } from 'node:util';

/**
 * File calls by descriptor, through Node's callback API. On an upload's
 * path `fs/promises` (a FileHandle per file) cost more CPU per call: a
 * large body's temp file and folder fsync done this way took 1.73 against
 * 1.79 s of CPU per GB uploaded (rest-server 1.60 s in the same run) and
 * 1.73 against 1.77 s (rest-server 1.56 s), side by side.
 */
export const openFd = promisify(open);
export const fchmodFd = promisify(fchmod);
export const fsyncFd = promisify(fsync);
export const closeFd = promisify(close);
