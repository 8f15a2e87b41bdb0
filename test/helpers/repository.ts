import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

/** Flips one bit inside the largest data file of a restic repository (as a failing disk might), and gives that file's path. */
export function damageLargestPack(repoFolder: string): string {
  const pack = readdirSync(join(repoFolder, 'data'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!pack || statSync(pack).size <= 4096) throw new Error(`no data file of over 4 KiB in ${repoFolder}`);
  const bytes = readFileSync(pack);
  bytes[4096] = (bytes[4096] as number) ^ 0x80;
  writeFileSync(pack, bytes);
  return pack;
}
