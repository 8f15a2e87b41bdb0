import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeObject } from './http.js';

/**
 * A repository written straight to the disk as the server would write it:
 * restic's folders, a `config`, and `count` data objects of `size` random
 * bytes, each named by its SHA-256. Returns the objects and their files.
 */
export function writeRepository(root: string, repo: string, count: number, size: number): { id: string; data: Buffer; path: string }[] {
  for (const type of ['keys', 'snapshots', 'index', 'locks']) mkdirSync(join(root, repo, type), { recursive: true });
  writeFileSync(join(root, repo, 'config'), 'not checked: config is not named by its contents');
  return Array.from({ length: count }, () => {
    const { id, data } = makeObject(size);
    const path = join(root, repo, 'data', id.slice(0, 2), id);
    mkdirSync(join(root, repo, 'data', id.slice(0, 2)), { recursive: true });
    writeFileSync(path, data);
    return { id, data, path };
  });
}
