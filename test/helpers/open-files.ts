import { readdirSync, readlinkSync } from 'node:fs';

/**
 * What this process's descriptors point at (the server under test runs in
 * it): paths for files, `socket:[n]` for sockets, `pipe:[n]` and
 * `anon_inode:[...]` for the pipes and event descriptors each thread of a
 * worker pool brings when it starts.
 */
export const openDescriptors = (): string[] =>
  readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target !== '');
