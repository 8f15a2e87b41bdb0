import type { Target } from './repo-path.js';

/**
 * Append-only mode allows creating and reading everything, and deleting only
 * locks, so that `restic unlock` and the end of every backup still work.
 */
export function mayDelete(target: Target, appendOnly: boolean): boolean {
  return !appendOnly || (target.kind === 'object' && target.type === 'locks');
}
